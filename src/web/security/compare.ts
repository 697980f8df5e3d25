import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Per-process key for comparisons: both sides are hashed first, so the comparison sees equal lengths only. */
const COMPARE_KEY = randomBytes(32);

/** Equal strings, in time that depends on neither their content nor their lengths. */
export function safeEqual(a: string, b: string): boolean {
  const left = createHmac('sha256', COMPARE_KEY).update(a).digest();
  const right = createHmac('sha256', COMPARE_KEY).update(b).digest();
  return timingSafeEqual(left, right);
}

/** Keyed hashes (HMAC-SHA256, base64url) for CSRF tokens and session cookies, each bound to a purpose. */
export class Signer {
  constructor(private readonly key: Buffer) {}

  static random(): Signer {
    return new Signer(randomBytes(32));
  }

  sign(purpose: string, value: string): string {
    return createHmac('sha256', this.key).update(`${purpose}\n${value}`).digest('base64url');
  }

  verify(purpose: string, value: string, signature: string | undefined): boolean {
    return signature !== undefined && safeEqual(this.sign(purpose, value), signature);
  }

  /** A signer whose key also depends on `context`: changing the context (the token) invalidates all it signed. */
  derive(context: string): Signer {
    return new Signer(createHmac('sha256', this.key).update(`derive\n${context}`).digest());
  }
}

export function randomId(): string {
  return randomBytes(18).toString('base64url');
}
