import { groupTrends } from '../../api/stats.js';
import type { App, Reply, Request } from '../context.js';
import { groupsPage } from '../views/groups.js';

const HOUR = 3_600_000;
const TREND_BUCKET = 2 * 60_000;

export async function groupsData(app: App, request: Request) {
  const order = request.query.get('order') === 'count' ? 'count' : 'recent';
  const end = Math.ceil(Date.now() / TREND_BUCKET) * TREND_BUCKET;
  const [groups, samples] = await Promise.all([
    app.admin.failures.groups({ order, limit: 200 }),
    app.admin.samples(end - HOUR),
  ]);
  const trends = groupTrends(samples, end, TREND_BUCKET, HOUR / TREND_BUCKET);
  return { groups, trends, trendBucketMs: TREND_BUCKET, order } as const;
}

export async function errors(app: App, request: Request): Promise<Reply> {
  const data = await groupsData(app, request);
  return {
    kind: 'page',
    title: 'Errors',
    tab: 'errors',
    live: true,
    body: groupsPage(request.view, { ...data, trends: data.trends }),
  };
}
