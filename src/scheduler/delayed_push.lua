-- Files delayed jobs as resque-scheduler does (RPUSH delayed:<second>, SADD timestamps:<item>, ZADD
-- delayed_queue_schedule), plus resque-ts's millisecond index and record, all in one step: no reader ever sees an item
-- without its timestamps entry or a record without its item.
--
-- KEYS[1]        delayed_queue_schedule
-- KEYS[2]        ts:delayed:due (ZSET id → due ms)
-- KEYS[3]        ts:delayed:records (HASH id → record)
-- KEYS[4]        ts:delayed:by-item (HASH `<second>:<sha1 of item>` → index members, space-separated)
-- KEYS[5]        ts:delayed:seq (the filing sequence)
-- KEYS[4 + 2i]   delayed:<second> of job i (i = 1…n)
-- KEYS[5 + 2i]   timestamps:<item> of job i
-- ARGV[1]        the promoters' wake-up channel (`ts:delayed:wake`)
-- ARGV[2]        the earliest due ms among these jobs, published on that channel
-- ARGV, 7 per job i from ARGV[3]: second, `delayed:<second>` (the set member), item, id, due ms, record, by-item field
-- Returns        the number of jobs filed
-- Index members are `<sequence, 15 digits>-<id>`: jobs due at the same millisecond sort in filing order, which is
-- their order in `delayed:<second>`, so promotion finds each at the head of its list.
local jobs = (#KEYS - 5) / 2
local sequence = redis.call('INCRBY', KEYS[5], jobs) - jobs
for i = 1, jobs do
  local a = 2 + (i - 1) * 7
  local second = ARGV[a + 1]
  local member = string.format('%015d', sequence + i) .. '-' .. ARGV[a + 4]
  redis.call('RPUSH', KEYS[4 + 2 * i], ARGV[a + 3])
  redis.call('SADD', KEYS[5 + 2 * i], ARGV[a + 2])
  redis.call('ZADD', KEYS[1], second, second)
  redis.call('ZADD', KEYS[2], ARGV[a + 5], member)
  redis.call('HSET', KEYS[3], member, ARGV[a + 6])
  local copies = redis.call('HGET', KEYS[4], ARGV[a + 7])
  redis.call('HSET', KEYS[4], ARGV[a + 7], copies and (copies .. ' ' .. member) or member)
end
redis.call('PUBLISH', ARGV[1], ARGV[2])
return jobs
