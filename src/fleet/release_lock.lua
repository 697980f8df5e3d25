-- Releases a lock only if it still holds the caller's value (another process may have taken it since it expired).
-- KEYS[1]  the lock
-- ARGV[1]  the value the caller set
-- Returns  1 when released, 0 when it was not (or no longer) the caller's
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
