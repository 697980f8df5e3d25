import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DashboardAuth } from './options.js';

/**
 * Headers on every response: a strict CSP (scripts and styles only from the dashboard's own static files, no inline
 * script or style), no framing, no sniffing, no referrer.
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
});

export const SESSION_COOKIE = 'resque_session';
export const AUTH_COOKIE = 'resque_auth';

/** Keyed hashes for CSRF tokens and sign-in cookies. */
export class Signer {
  private readonly key: Buffer;

  constructor(secret: string | undefined) {
    this.key = secret ? Buffer.from(secret) : randomBytes(32);
  }

  sign(purpose: string, value: string): string {
    return createHmac('sha256', this.key).update(`${purpose}\n${value}`).digest('base64url');
  }

  verify(purpose: string, value: string, signature: string | undefined): boolean {
    if (!signature) return false;
    return safeEqual(this.sign(purpose, value), signature);
  }
}

export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export function newSessionId(): string {
  return randomBytes(18).toString('base64url');
}

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

export function cookie(name: string, value: string, path: string, maxAgeSeconds?: number): string {
  const parts = [
    `${name}=${encodeURIComponent(value)}`,
    `Path=${path || '/'}`,
    'HttpOnly',
    'SameSite=Strict',
  ];
  if (maxAgeSeconds !== undefined) parts.push(`Max-Age=${maxAgeSeconds}`);
  return parts.join('; ');
}

export type AuthOutcome = 'ok' | 'challenge' | 'sign-in';

/**
 * Checks built-in auth. Basic: the `Authorization: Basic` header (a 401 challenge otherwise). Token: an
 * `Authorization: Bearer` header, or the signed cookie the sign-in form sets (the sign-in page otherwise).
 */
export function checkAuth(
  auth: DashboardAuth | undefined,
  req: IncomingMessage,
  cookies: Map<string, string>,
  signer: Signer,
): AuthOutcome {
  if (!auth) return 'ok';
  const header = req.headers.authorization ?? '';
  if ('basic' in auth) {
    const match = /^Basic\s+(\S+)$/i.exec(header);
    const decoded = match ? Buffer.from(match[1]!, 'base64').toString() : '';
    const expected = `${auth.basic.username}:${auth.basic.password}`;
    return match && safeEqual(decoded, expected) ? 'ok' : 'challenge';
  }
  const bearer = /^Bearer\s+(\S+)$/i.exec(header);
  if (bearer) return safeEqual(bearer[1]!, auth.token) ? 'ok' : 'challenge';
  return signer.verify('auth', auth.token, cookies.get(AUTH_COOKIE)) ? 'ok' : 'sign-in';
}

/** Requests authenticated by a Bearer header carry no ambient credentials, so they need no CSRF token. */
export function isBearer(req: IncomingMessage): boolean {
  return /^Bearer\s/i.test(req.headers.authorization ?? '');
}

export function setHeaders(res: ServerResponse, headers: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
}
