import type { UrlFn } from '../context.js';
import { type Html, html } from '../html.js';
import { assetUrl } from '../static.js';

/** The token sign-in form (only with `auth: { token }`), with its CSRF token and, after a refusal, why. */
export function signInPage(url: UrlFn, csrf: string, message: string | undefined): Html {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark"><title>Sign in · resque</title>
<link rel="stylesheet" href="${url(assetUrl('app.css'))}"></head>
<body><main class="sign-in">
<h1>resque<span>ts</span></h1>
<form method="post" action="${url('/sign-in')}">
<input type="hidden" name="_csrf" value="${csrf}">
<label>Access token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
<button type="submit">Sign in</button>
${message ? html`<p class="error-message">${message}</p>` : ''}
</form></main></body></html>`;
}
