-- Deletes a slot's in-flight entry if it still holds the reservation the caller read: its job was dealt with
-- elsewhere (a Ruby worker pruned the dead slot and recorded the job as failed).
-- KEYS[1]  ts:inflight:<slot>
-- KEYS[2]  ts:given-back:<slot>: the reservation's token is kept there for ARGV[2] ms (a late acknowledgement is
--          refused and reported)
-- ARGV[1]  the reservation's header, token .. "\n" .. queue .. "\n" (worker/fetch/inflight.ts)
-- ARGV[2]  how long (ms) to keep the mark
-- ARGV[3]  limit spec (Keys.limitSpec): the reservation's concurrency tokens are freed (redis/lua/limits.lua)
-- ARGV[4]  announce spec (Keys.announce), for the parked jobs a freed token lets back
-- A unique job's lock is released (redis/lua/unique.lua): the job was dealt with for good.
-- Returns  1 when deleted, 0 when the slot no longer holds that reservation
-- #include ../../redis/lua/announce.lua
-- #include ../../redis/lua/limits.lua
-- #include ../../redis/lua/unique.lua
local held = redis.call('GET', KEYS[1])
if not held or string.sub(held, 1, #ARGV[1]) ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
local token = string.sub(ARGV[1], 1, string.find(ARGV[1], '\n', 1, true) - 1)
redis.call('SET', KEYS[2], token, 'PX', ARGV[2])
releaseLimits(ARGV[3], ARGV[4], slotOf(ARGV[3], KEYS[1]), token)
uniqueEnd(ARGV[3], held, 'done')
return 1
