-- Ends a running job a cancel stopped, if its slot still holds that reservation: out of the slot (`ts:inflight`,
-- `worker:<slot>`), its concurrency tokens freed, its cancel request and tombstone removed, counted in
-- `ts:stat:cancelled` (not `stat:processed` nor `stat:failed`), and marked cancelled (mark.lua). No failure record,
-- no retry, no give-back. A unique job ends for good: its lock goes, whatever its mode (redis/lua/unique.lua).
--
-- KEYS[1]  ts:inflight:<slot>
-- KEYS[2]  worker:<slot>
-- KEYS[3]  ts:cancel-running
-- KEYS[4]  ts:cancelled-queued
-- KEYS[5]  ts:stat:cancelled
-- KEYS[6]  ts:status:<id>
-- ARGV[1]  the reservation's header, token .. "\n" .. queue .. "\n" (worker/fetch/inflight.ts)
-- ARGV[2]  job id
-- ARGV[3]  now (epoch ms), '' for the Redis clock
-- ARGV[4]  ts:job-events:<id>
-- ARGV[5]  limit spec (Keys.limitSpec, redis/lua/limits.lua)
-- ARGV[6]  announce spec (Keys.announce), for the parked jobs a freed token lets back
-- ARGV[7]  the slot id (its cancel request is `<slot id>\n<job id>`)
-- Returns  1 when ended, 0 when the slot no longer holds that reservation
-- #include ../redis/lua/announce.lua
-- #include ../redis/lua/limits.lua
-- #include ../redis/lua/unique.lua
-- #include mark.lua
local held = redis.call('GET', KEYS[1])
if not held or string.sub(held, 1, #ARGV[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
local token = string.sub(ARGV[1], 1, string.find(ARGV[1], '\n', 1, true) - 1)
releaseLimits(ARGV[5], ARGV[6], slotOf(ARGV[5], KEYS[1]), token)
uniqueEnd(ARGV[5], held, 'done')
redis.call('ZREM', KEYS[3], ARGV[7] .. '\n' .. ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[2])
redis.call('INCR', KEYS[5])
markCancelled(KEYS[6], ARGV[4], ARGV[2], cancelledNow(ARGV[3]))
return 1
