export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    try {
      cookies.set(name, decodeURIComponent(part.slice(eq + 1).trim()));
    } catch {
      // A cookie that is not ours; ignore it.
    }
  }
  return cookies;
}

export interface CookieOptions {
  /** The dashboard's mount path ('' for the root). */
  path: string;
  /** Lifetime in seconds; 0 clears the cookie; none makes a browser-session cookie. */
  maxAgeSeconds?: number;
  /** Only over HTTPS. */
  secure?: boolean;
}

/** A `Set-Cookie` value: always `HttpOnly` and `SameSite=Strict`. */
export function cookie(name: string, value: string, options: CookieOptions): string {
  const parts = [
    `${name}=${encodeCookieValue(value)}`,
    `Path=${options.path || '/'}`,
    'HttpOnly',
    'SameSite=Strict',
  ];
  if (options.maxAgeSeconds !== undefined) parts.push(`Max-Age=${Math.floor(options.maxAgeSeconds)}`);
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}

/** Percent-encoded; a lone surrogate (possible in JSON bodies) becomes U+FFFD instead of throwing. */
function encodeCookieValue(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return encodeURIComponent(value.replace(/[\ud800-\udfff]/g, '\ufffd'));
  }
}
