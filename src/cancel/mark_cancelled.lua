-- Marks a job cancelled (mark.lua) once its tombstone is its only cancel: it waits on a queue, or is unknown.
--
-- KEYS[1]  ts:status:<id>
-- ARGV[1]  job id; ARGV[2] now (epoch ms, '' for the Redis clock); ARGV[3] ts:job-events:<id>
-- Returns  1
-- #include mark.lua
markCancelled(KEYS[1], ARGV[3], ARGV[1], cancelledNow(ARGV[2]))
return 1
