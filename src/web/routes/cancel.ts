import type { App, Reply, Request } from '../context.js';
import { cancelNotice, confirmCancelPage } from '../views/cancel.js';

/**
 * Back where the cancel was asked for: a path inside the dashboard, as a plain URL (percent-encoded ASCII only, no
 * CR, LF or other characters a header cannot carry, not `//host`).
 */
function backOf(text: string | null): string | undefined {
  if (!text || text.startsWith('//')) return undefined;
  return /^\/[\w.~%:!$'()*+,;=@/-]*(\?[\w.~%:!$'()*+,;=@&/?-]*)?$/.test(text) ? text : undefined;
}

/** `GET /jobs/:id/cancel`: the confirmation step. */
export async function confirmCancel(_app: App, request: Request): Promise<Reply> {
  const id = request.params['id']!;
  return {
    kind: 'page',
    title: `Cancel ${id}?`,
    tab: 'overview',
    body: confirmCancelPage(request.view, id, backOf(request.query.get('back'))),
  };
}

/** `POST /jobs/:id/cancel` (form) and `POST /api/jobs/:id/cancel` (JSON: the CancelResult). */
export async function cancelJob(app: App, request: Request): Promise<Reply> {
  const id = request.params['id']!;
  const result = await app.admin.cancelJob(id);
  request.audit('cancel job', `${id} (${result.was})`, result.was === 'finished' ? 0 : 1);
  if (request.api) return { kind: 'json', body: result };
  return {
    kind: 'redirect',
    to: backOf(request.form.get('back')) ?? '/overview',
    notice: cancelNotice(result),
  };
}
