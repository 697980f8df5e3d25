-- Releases the scheduler master lock only if this process holds it.
--
-- KEYS[1]  the master lock
-- ARGV[1]  this process's value (`host:pid`)
-- Returns  1 when released, else 0
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
