import { type Html, html } from '../html.js';

export function errorPage(status: number, code: string, message: string): Html {
  const heading =
    status === 503
      ? "Can't connect to Redis"
      : status === 404
        ? 'Not found'
        : status === 403
          ? 'Forbidden'
          : status === 409 && code === 'WRONG_TYPE'
            ? 'Unexpected data in Redis'
            : 'Error';
  return html`<main class="error-page">
<h1>${heading}</h1>
<p class="error-message">${message}</p>
<p class="muted">Status ${status} · <code>${code}</code>${
    status === 503 ? ' · This page retries by itself while it is open.' : ''
  }</p>${
    code === 'WRONG_TYPE'
      ? html`<p>Something other than Resque wrote these keys. Stats → Keys shows what they hold; this page works again once they hold what Resque expects, or are deleted.</p>`
      : ''
  }
</main>`;
}
