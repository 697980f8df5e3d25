import type { IncomingMessage } from 'node:http';
import type { DashboardAuth } from '../options.js';
import { safeEqual } from './compare.js';
import type { Session } from './session.js';

/** Who a request is, as far as built-in auth knows. */
export type Identity =
  | { kind: 'open' }
  | { kind: 'basic'; user: string }
  | { kind: 'bearer' }
  | { kind: 'session'; session: Session };

/** Credentials a request presents in its `Authorization` header, checked against the configured ones. */
export type PresentedCredentials =
  | { kind: 'none' }
  | { kind: 'basic'; user: string; valid: boolean }
  | { kind: 'bearer'; valid: boolean };

/**
 * The `Authorization` header as this dashboard reads it: Basic only when basic auth is configured, Bearer only when
 * a token is (elsewhere the header is ignored, and the request needs its CSRF token like any other).
 */
export function presentedCredentials(
  auth: DashboardAuth | undefined,
  req: IncomingMessage,
): PresentedCredentials {
  const header = req.headers.authorization ?? '';
  if (auth && 'basic' in auth) {
    const match = /^Basic\s+([A-Za-z0-9+/=]{1,2048})\s*$/i.exec(header);
    if (!match) return { kind: 'none' };
    const decoded = Buffer.from(match[1]!, 'base64').toString();
    const colon = decoded.indexOf(':');
    const user = colon < 0 ? decoded : decoded.slice(0, colon);
    const expected = `${auth.basic.username}:${auth.basic.password}`;
    return { kind: 'basic', user, valid: safeEqual(decoded, expected) };
  }
  if (auth && 'token' in auth) {
    const match = /^Bearer\s+(\S{1,2048})\s*$/i.exec(header);
    if (!match) return { kind: 'none' };
    return { kind: 'bearer', valid: safeEqual(match[1]!, auth.token) };
  }
  return { kind: 'none' };
}

/** A name for audit lines: the basic-auth user, "bearer token", "session <id prefix>" or "anonymous". */
export function describeIdentity(identity: Identity): string {
  switch (identity.kind) {
    case 'basic':
      return `user ${JSON.stringify(identity.user)}`;
    case 'bearer':
      return 'bearer token';
    case 'session':
      return `session ${identity.session.id.slice(0, 8)}`;
    default:
      return 'anonymous';
  }
}
