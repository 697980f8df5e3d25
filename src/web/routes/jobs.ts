import type { App, Reply, Request } from '../context.js';
import { jobPage } from '../views/job.js';

/**
 * `/jobs/:id` and `GET /api/jobs/:id`: one job's status and story (docs/status.md). A tracked job costs one HGETALL;
 * the rest is bounded (the registered slots, a bounded scan of the retry set and delayed index, the newest failures).
 */
export async function job(app: App, request: Request): Promise<Reply> {
  const id = request.params['id']!;
  const story = await app.admin.job(id);
  if (request.api) return { kind: 'json', body: story, status: story.status.state === 'unknown' ? 404 : 200 };
  const live =
    story.status.state !== 'completed' && story.status.state !== 'failed' && story.status.state !== 'unknown';
  return { kind: 'page', title: `Job ${id}`, tab: undefined, live, body: jobPage(request.view, story) };
}
