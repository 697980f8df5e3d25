import { VERSION } from '../../version.js';
import type { Tab, View } from '../context.js';
import { type Html, html } from '../html.js';
import { assetUrl } from '../static.js';

const TABS: ReadonlyArray<[Tab, string, string]> = [
  ['overview', 'Overview', '/overview'],
  ['working', 'Working', '/working'],
  ['failed', 'Failed', '/failed'],
  ['errors', 'Errors', '/errors'],
  ['queues', 'Queues', '/queues'],
  ['workers', 'Workers', '/workers'],
  ['delayed', 'Delayed', '/delayed'],
  ['retries', 'Retries', '/retries'],
  ['schedule', 'Schedule', '/schedule'],
  ['stats', 'Stats', '/stats'],
];

export interface LayoutInput {
  title: string;
  tab: Tab | undefined;
  body: Html;
  live: boolean;
  notice: string | undefined;
  namespace: string;
  redisLabel: string;
}

/** The page around every view: tabs, live status, notice, footer. Scripts and styles are static files only. */
export function layout(view: View, input: LayoutInput): Html {
  const { url } = view;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${input.title} · resque</title>
<link rel="stylesheet" href="${url(assetUrl('app.css'))}">
<link rel="icon" href="${url(assetUrl('icon.svg'))}" type="image/svg+xml">
<script type="module" src="${url(assetUrl('app.js'))}"></script>
</head>
<body data-poll-ms="${view.options.pollIntervalMs}">
<header class="top">
  <a class="brand" href="${url('/overview')}">resque<span>ts</span></a>
  <nav class="tabs">${TABS.map(
    ([tab, label, path]) =>
      html`<a href="${url(path)}" class="${tab === input.tab ? 'active' : undefined}"${
        tab === input.tab ? html` aria-current="page"` : ''
      }>${label}</a>`,
  )}</nav>
  <div class="live-status" id="live-status" ${input.live ? html`data-state="live"` : html`data-state="static"`}>
    ${
      input.live
        ? html`<span class="dot"></span><span class="live-label">live</span><button type="button" id="live-toggle" class="link">pause</button>`
        : ''
    }
  </div>
</header>
${input.notice ? html`<div class="notice" role="status">${input.notice}</div>` : ''}
<div id="live"${input.live ? html` data-live="1"` : ''}>
${input.body}
</div>
<footer>
  <span>resque-ts ${VERSION}</span>
  <span>namespace <code>${input.namespace}</code></span>
  <span>${input.redisLabel}</span>
  ${view.readOnly ? html`<span class="badge">read-only</span>` : ''}
  <a href="${url('/api')}">JSON API</a>
  ${
    view.signedIn
      ? html`<form method="post" action="${url('/sign-out')}" class="inline sign-out"><input type="hidden" name="_csrf" value="${view.csrf}"><button type="submit" class="link">Sign out</button></form>`
      : ''
  }
</footer>
</body>
</html>
`;
}

/** A POST form with the CSRF token: one button, hidden fields, an optional confirm() text for the page's script. */
export function actionForm(
  view: View,
  path: string,
  label: string,
  options: { fields?: Record<string, string | number | undefined>; confirm?: string; danger?: boolean } = {},
): Html {
  if (view.readOnly) return html``;
  const fields = Object.entries(options.fields ?? {}).filter(([, v]) => v !== undefined && v !== '');
  return html`<form method="post" action="${view.url(path)}" class="inline"${
    options.confirm ? html` data-confirm="${options.confirm}"` : ''
  }><input type="hidden" name="_csrf" value="${view.csrf}">${fields.map(
    ([name, value]) => html`<input type="hidden" name="${name}" value="${String(value)}">`,
  )}<button type="submit" class="${options.danger ? 'danger' : undefined}">${label}</button></form>`;
}

/** Previous/next links for offset pagination. */
export function pager(
  view: View,
  path: string,
  query: Record<string, string | number | undefined>,
  offset: number,
  limit: number,
  total: number | undefined,
  hasMore: boolean,
): Html {
  const prev = offset > 0 ? Math.max(0, offset - limit) : undefined;
  const last = total !== undefined && total > 0 ? Math.floor((total - 1) / limit) * limit : undefined;
  const link = (start: number, label: string, rel?: string) =>
    html`<a href="${view.url(path, { ...query, start: start || undefined })}"${rel ? html` rel="${rel}"` : ''}>${label}</a>`;
  const shown =
    total !== undefined
      ? `${(offset + 1).toLocaleString('en-US')}–${Math.min(offset + limit, total).toLocaleString('en-US')} of ${total.toLocaleString('en-US')}`
      : `from ${(offset + 1).toLocaleString('en-US')}`;
  if (prev === undefined && !hasMore) return html``;
  return html`<nav class="pager">${prev !== undefined ? [link(0, '« first'), link(prev, '‹ prev', 'prev')] : ''}
<span class="muted">${shown}</span>${hasMore ? link(offset + limit, 'next ›', 'next') : ''}${
    hasMore && last !== undefined && last > offset ? link(last, 'last »') : ''
  }</nav>`;
}
