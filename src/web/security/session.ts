import type { Signer } from './compare.js';
import { randomId } from './compare.js';

/**
 * Signed-in browsers hold a stateless session cookie: `<issued at, epoch s>.<random id>.<signature>`. The server keeps
 * nothing (restarts and replicas sharing a `secret` accept each other's cookies, read-only mode writes nothing); the
 * signing key is derived from the token, so changing the token revokes every session; a cookie older than the
 * session lifetime is refused even if a browser kept it.
 */
export interface Session {
  id: string;
  issuedAtMs: number;
}

/** Clock skew tolerated for a cookie issued "in the future" by another replica. */
const SKEW_MS = 60_000;

export class Sessions {
  constructor(
    private readonly signer: Signer,
    readonly maxAgeMs: number,
  ) {}

  issue(nowMs: number): { session: Session; value: string } {
    const session = { id: randomId(), issuedAtMs: Math.floor(nowMs / 1000) * 1000 };
    const payload = `${session.issuedAtMs / 1000}.${session.id}`;
    return { session, value: `${payload}.${this.signer.sign('session', payload)}` };
  }

  /** The session a cookie value holds, if it is ours, unexpired and signed with the current token. */
  verify(value: string | undefined, nowMs: number): Session | undefined {
    const match = value === undefined ? null : /^(\d{1,12})\.([\w-]{16,64})\.([\w-]{43})$/.exec(value);
    if (!match) return undefined;
    const payload = `${match[1]}.${match[2]}`;
    if (!this.signer.verify('session', payload, match[3])) return undefined;
    const issuedAtMs = Number(match[1]) * 1000;
    if (issuedAtMs > nowMs + SKEW_MS || nowMs - issuedAtMs > this.maxAgeMs) return undefined;
    return { id: match[2]!, issuedAtMs };
  }
}
