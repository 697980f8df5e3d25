-- Gives a held job back: takes it out of a worker slot's in-flight key, if the slot still holds the very reservation
-- the caller read, and puts it at the head of its queue, so it runs next (on a fair queue, a job with a tenant at the
-- head of its tenant's list: announce.lua, returnJob). Used by a worker for the jobs it cannot
-- finish (shutdown, a child that died running another job) and by the reaper for the jobs of dead workers.
-- KEYS[1]  ts:inflight:<slot>
-- KEYS[2]  worker:<slot>
-- KEYS[3]  queue:<name>, the queue the job came from
-- KEYS[4]  queues
-- KEYS[5]  ts:given-back:<slot>, the mark a reaper leaves (see ARGV[5])
-- ARGV[1]  the reservation's header, token .. "\n" .. queue .. "\n" (worker/fetch/inflight.ts): the in-flight value
--          must start with it
-- ARGV[2]  the item to push back (the job's bytes, or with an updated "returns" count)
-- ARGV[3]  queue name (member of `queues`, announced to idle workers)
-- ARGV[4]  announce spec (Keys.announce)
-- ARGV[5]  '' from the worker holding the job; from a reaper, how long (ms) to keep the reservation's token in
--          KEYS[5], so a worker that was only stalled has its late acknowledgement refused and reported
-- ARGV[6]  limit spec (Keys.limitSpec): the reservation's concurrency tokens are freed (redis/lua/limits.lua)
-- A unique job keeps an `until-finished` lock and releases a `while-running` one (redis/lua/unique.lua).
-- Returns  1 when given back, 0 when the slot no longer holds that reservation
-- #include ../../redis/lua/announce.lua
-- #include ../../redis/lua/limits.lua
-- #include ../../redis/lua/unique.lua
local held = redis.call('GET', KEYS[1])
if not held or string.sub(held, 1, #ARGV[1]) ~= ARGV[1] then
  return 0
end
returnJob(ARGV[4], KEYS[3], ARGV[3], ARGV[2])
redis.call('SADD', KEYS[4], ARGV[3])
redis.call('DEL', KEYS[1], KEYS[2])
if ARGV[5] ~= '' then
  redis.call('SET', KEYS[5], string.sub(ARGV[1], 1, string.find(ARGV[1], '\n', 1, true) - 1), 'PX', ARGV[5])
end
announce(ARGV[4], ARGV[3])
uniqueEnd(ARGV[6], held, 'back')
releaseLimits(ARGV[6], ARGV[4], slotOf(ARGV[6], KEYS[1]), string.sub(ARGV[1], 1, string.find(ARGV[1], '\n', 1, true) - 1))
return 1
