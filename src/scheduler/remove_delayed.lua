-- Removes every copy of one delayed item from some seconds' lists (Ruby's remove_delayed: LREM 0 and SREM of the
-- timestamps entry), drops a second from the schedule once its list is empty (Ruby leaves that to its master), and,
-- when a queue is given, pushes one payload per removed copy to it in the same step (enqueue_delayed).
--
-- KEYS[1]        delayed_queue_schedule
-- KEYS[2]        timestamps:<item>
-- KEYS[3]        queues
-- KEYS[4]        queue:<name> (when only removing: timestamps:<item> again, untouched)
-- KEYS[4 + i]    delayed:<second i> (i = 1…n)
-- ARGV[1]        the item's exact bytes
-- ARGV[2]        queue name, or '' to remove only
-- ARGV[3]        payload pushed per removed copy
-- ARGV[4]        announce spec (Keys.announce): the queues reached wake idle workers
-- ARGV, 2 per second i from ARGV[5]: the second, `delayed:<second>`
-- Returns        the number of copies removed
-- #include ../redis/lua/announce.lua
local removed = 0
-- #include ../redis/lua/declared_keys.lua
for i = 1, declaredKeys() - 4 do
  local second, member = ARGV[3 + 2 * i], ARGV[4 + 2 * i]
  local bucket = KEYS[4 + i]
  removed = removed + redis.call('LREM', bucket, 0, ARGV[1])
  redis.call('SREM', KEYS[2], member)
  if redis.call('LLEN', bucket) == 0 then
    redis.call('ZREM', KEYS[1], second)
  end
end
if ARGV[2] ~= '' and removed > 0 then
  redis.call('SADD', KEYS[3], ARGV[2])
  for _ = 1, removed do
    redis.call('RPUSH', KEYS[4], ARGV[3])
  end
  announce(ARGV[4], ARGV[2])
end
return removed
