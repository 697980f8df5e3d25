-- Fails a held job nobody will finish (its worker is dead): takes it out of the slot's in-flight key, if the slot
-- still holds the reservation the caller read, and writes its failure record, in one step.
-- KEYS[1]  ts:inflight:<slot>
-- KEYS[2]  worker:<slot>
-- KEYS[3]  the failure list (`failed`, or `<queue>_failed` with the redis_multi_queue backend)
-- KEYS[4]  failed_queues (written only with a member in ARGV[3])
-- KEYS[5]  stat:failed
-- KEYS[6]  ts:given-back:<slot>: the reservation's token is kept there for ARGV[4] ms, so a worker that was only
--          stalled has its late acknowledgement refused and reported
-- ARGV[1]  the reservation's header, token .. "\n" .. queue .. "\n" (worker/fetch/inflight.ts)
-- ARGV[2]  the failure record's bytes
-- ARGV[3]  member to add to failed_queues, or ''
-- ARGV[4]  how long (ms) to keep the mark in KEYS[6]
-- ARGV[5]  limit spec (Keys.limitSpec): the reservation's concurrency tokens are freed (redis/lua/limits.lua)
-- ARGV[6]  announce spec (Keys.announce), for the parked jobs a freed token lets back
-- A unique job's lock is released (redis/lua/unique.lua): this is its final outcome.
-- Returns  1 when failed, 0 when the slot no longer holds that reservation
-- #include ../../redis/lua/announce.lua
-- #include ../../redis/lua/limits.lua
-- #include ../../redis/lua/unique.lua
local held = redis.call('GET', KEYS[1])
if not held or string.sub(held, 1, #ARGV[1]) ~= ARGV[1] then
  return 0
end
redis.call('RPUSH', KEYS[3], ARGV[2])
if ARGV[3] ~= '' then
  redis.call('SADD', KEYS[4], ARGV[3])
end
redis.call('INCR', KEYS[5])
redis.call('DEL', KEYS[1], KEYS[2])
local token = string.sub(ARGV[1], 1, string.find(ARGV[1], '\n', 1, true) - 1)
redis.call('SET', KEYS[6], token, 'PX', ARGV[4])
releaseLimits(ARGV[5], ARGV[6], slotOf(ARGV[5], KEYS[1]), token)
uniqueEnd(ARGV[5], held, 'done')
return 1
