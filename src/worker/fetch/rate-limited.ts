import { defineScript, runScript } from '../../redis/scripts.js';
import type { HeldContext } from './held.js';
import type { Reservation } from './reservation.js';

const RATE_LIMITED = defineScript(new URL('./rate_limited.lua', import.meta.url));

/**
 * Parks a held job that threw `RateLimited` on its rate limit and holds the limit shut for `ms` (rate_limited.lua),
 * if its slot still holds that reservation. `now`: epoch ms, or '' for the Redis clock. False when the slot no
 * longer held it.
 */
export async function rateLimitHeld(
  ctx: Pick<HeldContext, 'redis' | 'keys'>,
  reservation: Reservation,
  ms: number,
  now: string,
): Promise<boolean> {
  const { keys } = ctx;
  const done = await runScript<number>(
    ctx.redis,
    RATE_LIMITED,
    [keys.inflight(reservation.slotId), keys.worker(reservation.slotId)],
    [
      reservation.header,
      reservation.raw,
      reservation.queue,
      Math.max(1, Math.round(ms)),
      now,
      keys.announce,
      keys.limitSpec,
      keys.rateSpec,
    ],
  );
  return done === 1;
}
