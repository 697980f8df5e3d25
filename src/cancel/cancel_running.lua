-- Asks the worker holding a running job to cancel it, if the slot still holds that job: the request is recorded in
-- `ts:cancel-running` (a worker that misses the message finds it at its next liveness beat) and published on the
-- cancel channel every worker process listens on. Requests older than a week are trimmed.
--
-- KEYS[1]  ts:inflight:<slot>
-- KEYS[2]  ts:cancel-running
-- ARGV[1]  the in-flight value read (token, queue, item)
-- ARGV[2]  job id
-- ARGV[3]  now (epoch ms), '' for the Redis clock
-- ARGV[4]  the cancel channel (ts:cancel)
-- ARGV[5]  the slot id
-- Returns  1 when asked, 0 when the slot no longer holds that job
-- #include mark.lua
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local now = cancelledNow(ARGV[3])
redis.call('ZADD', KEYS[2], now, ARGV[5] .. '\n' .. ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. string.format('%d', now - 7 * 24 * 3600 * 1000))
redis.call('PUBLISH', ARGV[4], ARGV[2])
return 1
