/**
 * A growing, capped delay before answering a sign-in attempt from an address that recently failed (or has other
 * attempts in flight): it slows guessing without locking anyone out (behind a proxy every client shares one address,
 * so a lockout would lock out everyone). Failures are forgotten after a quiet period, or at once on success.
 */
export interface DelayClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const REAL_CLOCK: DelayClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()),
};

export interface SignInDelayOptions {
  /** Delay after the first failure; it doubles with each further one. Default 250. */
  baseMs?: number;
  /** The most any attempt waits. Default 5000. */
  maxMs?: number;
  /** Failures older than this are forgotten. Default 15 minutes. */
  forgetAfterMs?: number;
}

interface Record {
  failures: number;
  inFlight: number;
  lastFailureAt: number;
}

/** Addresses remembered at most (oldest dropped first), so a flood of addresses cannot grow memory without bound. */
const MAX_ADDRESSES = 10_000;

export class SignInDelay {
  private readonly records = new Map<string, Record>();
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly forgetAfterMs: number;

  constructor(
    options: SignInDelayOptions = {},
    private readonly clock: DelayClock = REAL_CLOCK,
  ) {
    this.baseMs = options.baseMs ?? 250;
    this.maxMs = options.maxMs ?? 5000;
    this.forgetAfterMs = options.forgetAfterMs ?? 15 * 60_000;
  }

  /** How long the next attempt from `address` waits. */
  delayFor(address: string): number {
    const record = this.current(address);
    const pressure = (record?.failures ?? 0) + (record?.inFlight ?? 0);
    return pressure === 0 ? 0 : Math.min(this.maxMs, this.baseMs * 2 ** Math.min(pressure - 1, 30));
  }

  /** Waits this address's delay, then runs the check; records its outcome (true: signed in). */
  async attempt(address: string, check: () => boolean | Promise<boolean>): Promise<boolean> {
    const wait = this.delayFor(address);
    const record = this.record(address);
    record.inFlight++;
    try {
      if (wait > 0) await this.clock.sleep(wait);
      const ok = await check();
      if (ok) this.records.delete(address);
      else {
        record.failures++;
        record.lastFailureAt = this.clock.now();
      }
      return ok;
    } finally {
      record.inFlight--;
    }
  }

  private current(address: string): Record | undefined {
    const record = this.records.get(address);
    if (record && record.inFlight === 0 && this.clock.now() - record.lastFailureAt > this.forgetAfterMs) {
      this.records.delete(address);
      return undefined;
    }
    return record;
  }

  private record(address: string): Record {
    let record = this.current(address);
    if (!record) {
      if (this.records.size >= MAX_ADDRESSES) this.records.delete(this.records.keys().next().value!);
      record = { failures: 0, inFlight: 0, lastFailureAt: this.clock.now() };
      this.records.set(address, record);
    }
    return record;
  }
}
