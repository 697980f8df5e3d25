import type { Redis } from 'ioredis';
import type { Keys } from '../protocol/keys.js';
import { defineScript, runScript } from '../redis/scripts.js';

const SWEEP = defineScript(new URL('./sweep.lua', import.meta.url));

/** How many parked jobs one sweep lets back at most; the next sweep goes on. */
const SWEEP_BUDGET = 1000;

export interface SweepReport {
  /** Tokens whose reservation was gone, freed. */
  reclaimed: number;
  /** Parked jobs moved back to the head of their queue. */
  returned: number;
}

/** Frees tokens of reservations that are gone and lets parked jobs back where their limit has room (sweep.lua). */
export async function sweepLimits(redis: Redis, keys: Keys): Promise<SweepReport> {
  const [reclaimed, returned] = await runScript<[number, number]>(
    redis,
    SWEEP,
    [keys.parkedLimits],
    [keys.limitSpec, keys.announce, SWEEP_BUDGET],
  );
  return { reclaimed: Number(reclaimed), returned: Number(returned) };
}
