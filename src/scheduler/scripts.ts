import { defineScript } from '../redis/scripts.js';

/** The scheduler's scripts, each beside this module (one atomic operation per file, KEYS/ARGV in its header). */
export const DELAYED_SCRIPTS = {
  push: defineScript(new URL('./delayed_push.lua', import.meta.url)),
  promoteOwn: defineScript(new URL('./promote_own.lua', import.meta.url)),
  promoteRetries: defineScript(new URL('./promote_retries.lua', import.meta.url)),
  readHead: defineScript(new URL('./read_head.lua', import.meta.url)),
  promoteSecond: defineScript(new URL('./promote_second.lua', import.meta.url)),
  dropOrphans: defineScript(new URL('./drop_orphans.lua', import.meta.url)),
  remove: defineScript(new URL('./remove_delayed.lua', import.meta.url)),
  renewMasterLock: defineScript(new URL('./master_lock_renew.lua', import.meta.url)),
  releaseMasterLock: defineScript(new URL('./master_lock_release.lua', import.meta.url)),
  fireTick: defineScript(new URL('./fire_tick.lua', import.meta.url)),
  promoterLease: defineScript(new URL('./promoter_lease.lua', import.meta.url)),
} as const;
