-- Cancels a job waiting in the retry set: its member leaves `ts:retry`, its tombstone goes, and it is marked
-- cancelled (mark.lua). Nothing is done when the member is gone (promoted or removed meanwhile).
--
-- KEYS[1]  ts:retry
-- KEYS[2]  ts:cancelled-queued
-- KEYS[3]  ts:status:<id>
-- ARGV[1]  the member; ARGV[2] job id; ARGV[3] now (epoch ms, '' for the Redis clock); ARGV[4] ts:job-events:<id>
-- Returns  1 when cancelled, 0 when the member was gone
-- #include mark.lua
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[2], ARGV[2])
markCancelled(KEYS[3], ARGV[4], ARGV[2], cancelledNow(ARGV[3]))
return 1
