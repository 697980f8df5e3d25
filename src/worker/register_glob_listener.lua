-- Registers a glob listener for announcements (announce.lua reads `ts:wake-globs`) and notes when, so listeners no
-- worker uses any more can be dropped (prune_glob_listeners.lua).
--
-- KEYS[1]  ts:wake-globs
-- KEYS[2]  ts:wake-globs-seen
-- ARGV[1]  the listener's name: the worker's queue list, as given
-- ARGV[2]  its match rules (glob-rule.ts)
-- ARGV[3]  now (epoch ms), '' for the Redis clock
-- Returns  1
local now = tonumber(ARGV[3])
if not now then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], now, ARGV[1])
return 1
