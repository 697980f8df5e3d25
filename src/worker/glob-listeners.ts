import type { Redis } from 'ioredis';
import type { Keys } from '../protocol/keys.js';
import { defineScript, runScript } from '../redis/scripts.js';

const REGISTER = defineScript(new URL('./register_glob_listener.lua', import.meta.url));
const PRUNE = defineScript(new URL('./prune_glob_listeners.lua', import.meta.url));

/** How often a worker registers its glob listener again while it lives. */
export const GLOB_LISTENER_REFRESH_MS = 60_000;
/** How long a glob listener nobody registers again is kept. */
export const GLOB_LISTENER_TTL_MS = 10 * 60_000;

/** Registers a glob listener (`ts:wake-globs`) and notes when (`ts:wake-globs-seen`). `nowMs` for tests. */
export async function registerGlobListener(
  redis: Redis,
  keys: Keys,
  listener: { name: string; rules: string | Buffer },
  nowMs?: number,
): Promise<void> {
  await runScript(
    redis,
    REGISTER,
    [keys.wakeGlobs, keys.wakeGlobsSeen],
    [listener.name, listener.rules, nowMs ?? ''],
  );
}

/** Drops the glob listeners not registered within GLOB_LISTENER_TTL_MS, with their wake lists; returns their names. */
export async function pruneGlobListeners(redis: Redis, keys: Keys, nowMs?: number): Promise<string[]> {
  return runScript<string[]>(
    redis,
    PRUNE,
    [keys.wakeGlobs, keys.wakeGlobsSeen],
    [nowMs ?? '', GLOB_LISTENER_TTL_MS, keys.globWake('')],
  );
}
