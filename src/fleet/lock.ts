import type { Redis } from 'ioredis';
import { defineScript, runScript } from '../redis/scripts.js';

const RELEASE_LOCK = defineScript(new URL('./release_lock.lua', import.meta.url));

/** Deletes a lock only while it still holds `value` (another process may have taken it since it expired). */
export async function releaseLock(redis: Redis, key: string, value: string): Promise<boolean> {
  return (await runScript<number>(redis, RELEASE_LOCK, [key], [value])) === 1;
}
