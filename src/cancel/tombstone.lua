-- The first step of a cancel: unless the job's status record says it has already ended, leave a tombstone for its
-- id, so that wherever the job is on its way to a queue (waiting there, on a fair queue's tenant list, parked by a
-- limit, promoted from the delayed or retry set meanwhile) it is dropped when a worker pops it (reserve_check.lua).
-- Tombstones older than a week are trimmed here too.
--
-- KEYS[1]  ts:cancelled-queued
-- KEYS[2]  ts:status:<id>
-- ARGV[1]  job id
-- ARGV[2]  now (epoch ms), '' for the Redis clock
-- Returns  { 1 when a tombstone was left, else 0; the status record's state, or '' without a record }
-- #include mark.lua
local WEEK_MS = 7 * 24 * 3600 * 1000
local now = cancelledNow(ARGV[2])
local state = redis.call('HGET', KEYS[2], 'state') or ''
if state == 'completed' or state == 'failed' or state == 'cancelled' then
  return { 0, state }
end
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%d', now - WEEK_MS))
return { 1, state }
