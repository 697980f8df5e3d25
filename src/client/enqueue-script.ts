import type { Keys } from '../protocol/keys.js';
import { defineScript, type LuaScript, withConstants } from '../redis/scripts.js';

const ENQUEUE = defineScript(new URL('../redis/lua/enqueue.lua', import.meta.url));

const byNamespace = new WeakMap<Keys, LuaScript>();

/**
 * enqueue.lua for one namespace: its announce spec (about 230 bytes) is part of the script, so each call sends only
 * the queue and the job. Run it with runScript (a Redis without it is sent the source once).
 */
export function enqueueScript(keys: Keys): LuaScript {
  let script = byNamespace.get(keys);
  if (!script) {
    script = withConstants(ENQUEUE, { ANNOUNCE_SPEC: keys.announce });
    byNamespace.set(keys, script);
  }
  return script;
}
