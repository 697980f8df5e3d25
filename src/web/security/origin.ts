import type { IncomingMessage } from 'node:http';

/**
 * Whether a state-changing request may come from where the browser says it comes from. `Origin`, when sent, must
 * name this dashboard's host (hosts are compared, not schemes: a TLS-terminating proxy turns https into http) or one
 * of the allowed origins. `Origin: null` says nothing (browsers send it for the dashboard's own forms, since its
 * pages have `Referrer-Policy: no-referrer`), so then, as without `Origin`, `Sec-Fetch-Site` must be `same-origin`
 * or `none` (typed by the user). Requests with neither (curl, scripts, the CLI) are judged by their credentials and
 * CSRF token alone. Returns why the request is refused, or undefined.
 */
export function crossOriginRefusal(
  req: IncomingMessage,
  allowedHosts: ReadonlySet<string>,
): string | undefined {
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== 'null') {
    const host = hostOf(origin);
    if (host === undefined) return `Origin ${JSON.stringify(origin.slice(0, 100))} is not allowed`;
    const own = (req.headers.host ?? '').toLowerCase();
    return host === own || allowedHosts.has(host)
      ? undefined
      : `Origin ${origin.slice(0, 100)} is not allowed`;
  }
  const site = req.headers['sec-fetch-site'];
  if (site === undefined || site === 'same-origin' || site === 'none') return undefined;
  return `A ${site.slice(0, 20)} request is not allowed`;
}

/** `https://Ops.Example:8443/x` → `ops.example:8443`; undefined for `null` and anything that is not a URL. */
export function hostOf(origin: string): string | undefined {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(origin)) return undefined;
  try {
    const host = new URL(origin).host.toLowerCase();
    return host === '' ? undefined : host;
  } catch {
    return undefined;
  }
}

/** Allowed origins as hosts: `https://admin.example.com` and `admin.example.com` both allow that host. */
export function allowedHostSet(origins: readonly string[]): Set<string> {
  const hosts = new Set<string>();
  for (const origin of origins) {
    const host = hostOf(origin.includes('://') ? origin : `http://${origin}`);
    if (host === undefined) throw new TypeError(`allowedOrigins: not an origin: ${JSON.stringify(origin)}`);
    hosts.add(host);
  }
  return hosts;
}
