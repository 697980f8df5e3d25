-- Moves the head of one second's list (`delayed:<second>`) to the queues, as resque-scheduler's master does but in
-- one step instead of WATCH/MULTI: the items read beforehand must still be the list's head, else nothing is done and
-- -1 says to read again. Used for items without a resque-ts record (written by Ruby) once their whole second has
-- come, and for "queue now". As Ruby's master, it drops each moved item's `timestamps:` entry for that second.
-- Items that cannot be enqueued (no queue, not JSON) are set aside with the reason, never dropped.
--
-- KEYS[1]          delayed_queue_schedule
-- KEYS[2]          delayed:<second>
-- KEYS[3]          queues
-- KEYS[4]          ts:delayed:unpromotable
-- KEYS[2i + 3]     timestamps:<item> of item i (i = 1…n)
-- KEYS[2i + 4]     queue:<name> of item i (for an item set aside: ts:delayed:unpromotable again)
-- ARGV[1]          the second
-- ARGV[2]          `delayed:<second>` (the timestamps set member)
-- ARGV[3]          wake-up channel of idle workers (`ts:wake`)
-- ARGV, 3 per item i from ARGV[4]: item, queue name ('' to set it aside), payload (or the set-aside record)
-- Returns          items moved (set-aside ones included), or -1 when the list's head changed
local items = (#KEYS - 4) / 2
if items > 0 then
  local head = redis.call('LRANGE', KEYS[2], 0, items - 1)
  if #head ~= items then return -1 end
  for i = 1, items do
    if head[i] ~= ARGV[3 + (i - 1) * 3 + 1] then return -1 end
  end
  redis.call('LTRIM', KEYS[2], items, -1)
end
local queues = {}
for i = 1, items do
  local a = 3 + (i - 1) * 3
  local name, payload = ARGV[a + 2], ARGV[a + 3]
  redis.call('SREM', KEYS[2 * i + 3], ARGV[2])
  if name == '' then
    redis.call('RPUSH', KEYS[4], payload)
  else
    redis.call('RPUSH', KEYS[2 * i + 4], payload)
    queues[name] = true
  end
end
if redis.call('LLEN', KEYS[2]) == 0 then
  redis.call('ZREM', KEYS[1], ARGV[1])
end
for name in pairs(queues) do
  redis.call('SADD', KEYS[3], name)
  redis.call('PUBLISH', ARGV[3], name)
end
return items
