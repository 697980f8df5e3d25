-- Keeps the scheduler master lock if this process holds it (resque-scheduler's "locked?": compare, then extend).
--
-- KEYS[1]  the master lock (`<ns>:<ns>:[<prefix>:]resque_scheduler_master_lock`)
-- ARGV[1]  this process's value (`host:pid`)
-- ARGV[2]  time to live (ms)
-- Returns  1 when held and extended, else 0
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
