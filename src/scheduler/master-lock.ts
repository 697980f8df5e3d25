import type { Redis } from 'ioredis';
import { runScript } from '../redis/scripts.js';
import { DELAYED_SCRIPTS } from './scripts.js';

/**
 * resque-scheduler's master lock, on its key and value format (`host:pid`), so one resque-scheduler and any number of
 * resque-ts schedulers elect one master between them. Acquired with `SET NX PX` (never a lock without a TTL, unlike
 * Ruby's SETNX then EXPIRE), renewed by compare-and-extend, released only by its holder.
 */
export class MasterLock {
  constructor(
    private readonly redis: Redis,
    readonly key: string,
    readonly value: string,
    readonly ttlMs: number,
  ) {}

  /** Ruby's `master?`: take the lock if free, else keep it if held; true when this process is master. */
  async hold(): Promise<boolean> {
    const taken = await this.redis.set(this.key, this.value, 'PX', this.ttlMs, 'NX');
    if (taken === 'OK') return true;
    return (
      (await runScript<number>(
        this.redis,
        DELAYED_SCRIPTS.renewMasterLock,
        [this.key],
        [this.value, this.ttlMs],
      )) === 1
    );
  }

  async release(): Promise<boolean> {
    return (
      (await runScript<number>(this.redis, DELAYED_SCRIPTS.releaseMasterLock, [this.key], [this.value])) === 1
    );
  }

  /** The current master's `host:pid`, if any. */
  holder(): Promise<string | null> {
    return this.redis.get(this.key);
  }
}
