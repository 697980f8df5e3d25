import { defineScript } from '../redis/scripts.js';

/** The scripts of cancelling, each beside this module (one atomic operation per file, KEYS/ARGV in its header). */
export const CANCEL_SCRIPTS = {
  tombstone: defineScript(new URL('./tombstone.lua', import.meta.url)),
  delayed: defineScript(new URL('./cancel_delayed.lua', import.meta.url)),
  retry: defineScript(new URL('./cancel_retry.lua', import.meta.url)),
  running: defineScript(new URL('./cancel_running.lua', import.meta.url)),
  mark: defineScript(new URL('./mark_cancelled.lua', import.meta.url)),
  finish: defineScript(new URL('./finish_cancelled.lua', import.meta.url)),
} as const;
