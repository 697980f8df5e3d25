-- Moves resque-ts's own delayed jobs due within the second that has not wholly come yet (their millisecond has) to
-- their queues, in one step: each job leaves the millisecond index, its record, its `ts:delayed:by-item` entry and
-- its `delayed:<second>` list (one copy, LREM 1) and reaches its queue together, so a process dying mid-batch loses
-- and duplicates nothing. A job no longer in the index (another promoter took it) is skipped; one whose item has left
-- its list (Ruby removed it) only has its record dropped. The item's `timestamps:` entry goes with its last copy.
--
-- KEYS[1]          delayed_queue_schedule
-- KEYS[2]          ts:delayed:due
-- KEYS[3]          ts:delayed:records
-- KEYS[4]          ts:delayed:by-item
-- KEYS[5]          queues
-- KEYS[3i + 3]     delayed:<second> of job i (i = 1…n)
-- KEYS[3i + 4]     timestamps:<item> of job i
-- KEYS[3i + 5]     queue:<name> of job i
-- ARGV[1]          now (epoch ms)
-- ARGV[2]          announce spec (Keys.announce): the queues reached wake idle workers
-- ARGV, 8 per job i from ARGV[3]: index member, second, `delayed:<second>`, item, queue name, payload, by-item field,
--                  tenant ('' for none: on a fair queue a job with one goes to its tenant's list, announce.lua)
-- Returns          { jobs moved to their queues, records dropped without a move }
-- #include ../redis/lua/announce.lua
local now = tonumber(ARGV[1])
local moved, dropped = 0, 0
local queues, seconds = {}, {}

-- Removes `member` from a by-item field; returns true when no copy of ours is left.
local function forget(field, member)
  local left = {}
  for token in string.gmatch(redis.call('HGET', KEYS[4], field) or '', '%S+') do
    if token ~= member then left[#left + 1] = token end
  end
  if #left == 0 then
    redis.call('HDEL', KEYS[4], field)
    return true
  end
  redis.call('HSET', KEYS[4], field, table.concat(left, ' '))
  return false
end

-- #include ../redis/lua/declared_keys.lua
for i = 1, (declaredKeys() - 5) / 3 do
  local a = 2 + (i - 1) * 8
  local member, second, item = ARGV[a + 1], ARGV[a + 2], ARGV[a + 4]
  local bucket = KEYS[3 * i + 3]
  local due = redis.call('ZSCORE', KEYS[2], member)
  if due and tonumber(due) <= now then
    redis.call('ZREM', KEYS[2], member)
    redis.call('HDEL', KEYS[3], member)
    local last = forget(ARGV[a + 7], member)
    if redis.call('LREM', bucket, 1, item) == 1 then
      if not pushTenant(ARGV[2], ARGV[a + 5], ARGV[a + 8], ARGV[a + 6]) then
        redis.call('RPUSH', KEYS[3 * i + 5], ARGV[a + 6])
      end
      queues[ARGV[a + 5]] = true
      moved = moved + 1
      if last then redis.call('SREM', KEYS[3 * i + 4], ARGV[a + 3]) end
    else
      dropped = dropped + 1
    end
    seconds[second] = bucket
  end
end
for second, bucket in pairs(seconds) do
  if redis.call('LLEN', bucket) == 0 then redis.call('ZREM', KEYS[1], second) end
end
for name in pairs(queues) do
  redis.call('SADD', KEYS[5], name)
  announce(ARGV[2], name)
end
return { moved, dropped }
