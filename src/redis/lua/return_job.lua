-- Takes a job out of a worker slot's in-flight key, if it is still the job the caller read, and either puts it
-- back at the head of its queue (it runs next) or writes it to a failure list. Used by the reaper for dead
-- workers and by a worker giving back the jobs it could not finish at shutdown.
-- KEYS[1]  the slot's in-flight key (value: token .. "\n" .. queue .. "\n" .. raw item)
-- KEYS[2]  the slot's worker:<slot> status key
-- ARGV[1]  key prefix ("<namespace>:")
-- ARGV[2]  token the caller read (first 16 characters of the in-flight value)
-- ARGV[3]  "return" or "fail"
-- ARGV[4]  return: the item to push back (may carry an updated "returns" count); fail: the failure record
-- ARGV[5]  fail: the failure list key;  ARGV[6] fail: member to add to failed_queues, or ""
-- ARGV[7]  wake channel to announce the queue on after a return
-- Returns  1 when done, 0 when the slot no longer holds that job
local held = redis.call('GET', KEYS[1])
if not held or string.sub(held, 1, 16) ~= ARGV[2] then
  return 0
end
local queueEnd = string.find(held, '\n', 18, true)
local queue = string.sub(held, 18, queueEnd - 1)
if ARGV[3] == 'return' then
  redis.call('LPUSH', ARGV[1] .. 'queue:' .. queue, ARGV[4])
  redis.call('SADD', ARGV[1] .. 'queues', queue)
  redis.call('PUBLISH', ARGV[7], queue)
else
  redis.call('RPUSH', ARGV[5], ARGV[4])
  if ARGV[6] ~= '' then
    redis.call('SADD', ARGV[1] .. 'failed_queues', ARGV[6])
  end
end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
