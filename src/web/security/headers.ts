import type { ServerResponse } from 'node:http';

/**
 * Headers on every response the dashboard makes, errors included: a strict CSP (scripts and styles only from the
 * dashboard's own static files, no inline script or style), no framing, no sniffing, no referrer, and no caching
 * (the static files override that with their own, since their URLs carry a content hash).
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=()',
  'Cache-Control': 'no-store',
});

export function setSecurityHeaders(res: ServerResponse): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
}

/**
 * A whole HTTP/1.1 response for a request Node rejected before any handler ran (headers too large, a malformed
 * request line): written to the socket by the standalone server's `clientError` listener.
 */
export function rawErrorResponse(status: 400 | 408 | 413 | 431, reason: string): string {
  const body = `${reason}\n`;
  const headers = Object.entries({
    ...SECURITY_HEADERS,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    Connection: 'close',
  }).map(([name, value]) => `${name}: ${value}\r\n`);
  return `HTTP/1.1 ${status} ${reason}\r\n${headers.join('')}\r\n${body}`;
}
