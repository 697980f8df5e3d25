import type { Keys } from '../../protocol/keys.js';
import { defineScript, type LuaScript, withConstants } from '../../redis/scripts.js';

const RESERVE = defineScript(new URL('./reserve.lua', import.meta.url));

/**
 * What a worker's slot ids share: each is `head + reference + tail`, so a reservation call names a slot by its
 * reference alone. Slot n > 0 of worker `host:pid:queues` is `host~n:pid:queues` (protocol/worker-id.ts): head `host`,
 * tail `:pid:queues`, references '' (slot 0) and `~n`.
 */
export interface SlotTemplate {
  readonly head: string;
  readonly tail: string;
}

/** The template every one of `slotIds` fits: the first one's host and the rest, else none (references = whole ids). */
export function slotTemplate(slotIds: readonly string[]): SlotTemplate {
  const first = slotIds[0] ?? '';
  const colon = first.indexOf(':');
  if (colon <= 0) return { head: '', tail: '' };
  const template = { head: first.slice(0, colon).replace(/~\d+$/, ''), tail: first.slice(colon) };
  return slotIds.every((id) => fits(template, id)) ? template : { head: '', tail: '' };
}

function fits(template: SlotTemplate, slotId: string): boolean {
  return (
    slotId.length >= template.head.length + template.tail.length &&
    slotId.startsWith(template.head) &&
    slotId.endsWith(template.tail)
  );
}

/** What a reservation call sends for slot `slotId`: its id less the template's head and tail. */
export function slotReference(template: SlotTemplate, slotId: string): string {
  if (!fits(template, slotId))
    throw new Error(`Slot ${slotId} is not one of this worker's (${template.head}…${template.tail})`);
  return slotId.slice(template.head.length, slotId.length - template.tail.length);
}

const byNamespace = new WeakMap<Keys, LuaScript>();

/**
 * reserve.lua for one namespace: the namespace's keys and specs (about 1 KB) are part of the script, so each call
 * sends only the slot-id template, the slots' references and tokens. One script per namespace, not per worker: Redis
 * keeps every loaded script until SCRIPT FLUSH, and worker ids change with every process. Run it with runScript (a
 * Redis without it is sent the source once).
 */
export function reserveScript(keys: Keys): LuaScript {
  let script = byNamespace.get(keys);
  if (!script) {
    script = withConstants(RESERVE, {
      ANNOUNCE_KEYS: specLines(keys.announce),
      LIMIT_KEYS: specLines(keys.limitSpec),
      RATE_KEYS: specLines(keys.rateSpec),
      QUEUE_PREFIX: keys.queuePrefix,
      PAUSE_ALL: keys.pauseAll,
      PROCESSED: keys.processed,
      FAILED: keys.failedCount,
      TOMBSTONES: keys.cancelledQueued,
      CANCELLED_COUNT: keys.cancelledCount,
      WORKER_PREFIX: keys.worker(''),
    });
    byNamespace.set(keys, script);
  }
  return script;
}

/** A spec's lines as the Lua side reads them (`string.gmatch(spec, '[^\\n]+')`). */
function specLines(spec: string): string[] {
  return spec.split('\n').filter((line) => line !== '');
}
