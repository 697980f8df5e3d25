-- Ends a failed attempt that will be retried, in one step: takes the job out of the slot's in-flight key (if the
-- slot still holds the reservation the caller read), counts it as processed and failed, and files its next attempt,
-- so at every instant the job is either held or waiting to be retried, never neither nor both. Its next attempt
-- goes into the retry set scored by its due time, or, when it is due at once, to the tail of its queue (of its
-- tenant's list on a fair queue).
-- KEYS[1]  ts:inflight:<slot>
-- KEYS[2]  worker:<slot>
-- KEYS[3]  ts:retry
-- KEYS[4]  stat:processed
-- KEYS[5]  stat:failed
-- KEYS[6]  queue:<name>, the queue the job came from and goes back to
-- KEYS[7]  queues
-- KEYS[8]  ts:cancelled-queued: a job cancelled while its attempt failed is not filed (its caller ends it as cancelled)
-- ARGV[1]  the reservation's header, token .. "\n" .. queue .. "\n" (worker/fetch/inflight.ts): the in-flight value
--          must start with it
-- ARGV[2]  the item of the next attempt (protocol/attempts.ts)
-- ARGV[3]  now (epoch ms)
-- ARGV[4]  delay (ms) before the next attempt
-- ARGV[5]  queue name (member of `queues`, announced to idle workers)
-- ARGV[6]  announce spec (Keys.announce)
-- ARGV[7]  channel announcing due times to promoters (`ts:delayed:wake`)
-- ARGV[8]  limit spec (Keys.limitSpec): the reservation's concurrency tokens are freed (redis/lua/limits.lua)
-- ARGV[9]  the job's id, '' for a job without one
-- A unique job keeps an `until-finished` lock (extended past the retry's due time) and releases a `while-running`
-- one (redis/lua/unique.lua).
-- Returns  1 when filed, 0 when the slot no longer holds that reservation, 2 when nothing was done because the job
--          has a cancel tombstone (resque.cancel reached it after its attempt had failed: see src/cancel/)
-- #include ../../redis/lua/announce.lua
-- #include ../../redis/lua/limits.lua
-- #include ../../redis/lua/unique.lua
local held = redis.call('GET', KEYS[1])
if not held or string.sub(held, 1, #ARGV[1]) ~= ARGV[1] then
  return 0
end
if ARGV[9] ~= '' and redis.call('ZSCORE', KEYS[8], ARGV[9]) then
  return 2
end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('INCR', KEYS[4])
redis.call('INCR', KEYS[5])
releaseLimits(ARGV[8], ARGV[6], slotOf(ARGV[8], KEYS[1]), string.sub(ARGV[1], 1, string.find(ARGV[1], '\n', 1, true) - 1))
local delay = tonumber(ARGV[4])
uniqueEnd(ARGV[8], held, 'retry', delay)
if delay <= 0 then
  -- As promote_retries.lua does for a retry that falls due: a job with a tenant goes to the back of its list.
  if not pushTenant(ARGV[6], ARGV[5], tenantOfItem(ARGV[2]), ARGV[2]) then redis.call('RPUSH', KEYS[6], ARGV[2]) end
  redis.call('SADD', KEYS[7], ARGV[5])
  announce(ARGV[6], ARGV[5])
else
  local due = string.format('%d', tonumber(ARGV[3]) + delay)
  redis.call('ZADD', KEYS[3], due, ARGV[1] .. ARGV[2])
  redis.call('PUBLISH', ARGV[7], due)
end
return 1
