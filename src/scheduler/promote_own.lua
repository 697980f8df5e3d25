-- Moves a batch of resque-ts's own delayed jobs whose due millisecond has come to their queues, in one step: each
-- job leaves the millisecond index, its record, and its `delayed:<second>` list (one copy, LREM 1) and reaches its
-- queue together, so a process dying mid-batch loses and duplicates nothing. A job no longer in the index (another
-- promoter took it) is skipped; one whose item has left its list (Ruby removed it, or a Ruby master moved it) only
-- has its record dropped. The item's `timestamps:` entry goes when the last copy resque-ts filed in that second
-- leaves (as Ruby's master drops it when a copy leaves).
--
-- KEYS[1]          delayed_queue_schedule
-- KEYS[2]          ts:delayed:due
-- KEYS[3]          ts:delayed:records
-- KEYS[4]          ts:delayed:copies
-- KEYS[5]          queues
-- KEYS[3i + 3]     delayed:<second> of job i (i = 1…n)
-- KEYS[3i + 4]     timestamps:<item> of job i
-- KEYS[3i + 5]     queue:<name> of job i
-- ARGV[1]          now (epoch ms)
-- ARGV[2]          wake-up channel of idle workers (`ts:wake`)
-- ARGV, 7 per job i from ARGV[3]: index member, second, `delayed:<second>`, item, queue name, payload, copies field
-- Returns          { jobs moved to their queues, records dropped without a move }
local now = tonumber(ARGV[1])
local moved, dropped = 0, 0
local queues, seconds = {}, {}
local jobs = (#KEYS - 5) / 3
for i = 1, jobs do
  local a = 2 + (i - 1) * 7
  local member, second, item = ARGV[a + 1], ARGV[a + 2], ARGV[a + 4]
  local bucket = KEYS[3 * i + 3]
  local due = redis.call('ZSCORE', KEYS[2], member)
  if due and tonumber(due) <= now then
    redis.call('ZREM', KEYS[2], member)
    redis.call('HDEL', KEYS[3], member)
    local removed = redis.call('LREM', bucket, 1, item)
    local ours = redis.call('HINCRBY', KEYS[4], ARGV[a + 7], -1)
    if ours <= 0 then
      redis.call('HDEL', KEYS[4], ARGV[a + 7])
    end
    if removed == 1 then
      redis.call('RPUSH', KEYS[3 * i + 5], ARGV[a + 6])
      queues[ARGV[a + 5]] = true
      moved = moved + 1
      if ours <= 0 then
        redis.call('SREM', KEYS[3 * i + 4], ARGV[a + 3])
      end
    else
      dropped = dropped + 1
    end
    seconds[second] = bucket
  end
end
for second, bucket in pairs(seconds) do
  if redis.call('LLEN', bucket) == 0 then
    redis.call('ZREM', KEYS[1], second)
  end
end
for name in pairs(queues) do
  redis.call('SADD', KEYS[5], name)
  redis.call('PUBLISH', ARGV[2], name)
end
return { moved, dropped }
