-- Files delayed jobs as resque-scheduler does (RPUSH delayed:<second>, SADD timestamps:<item>, ZADD
-- delayed_queue_schedule), plus resque-ts's millisecond index and record, all in one step: no reader ever sees an item
-- without its timestamps entry or a record without its item. Jobs of a unique class (docs/unique-jobs.md) first take
-- their lock (SET NX PX, value = the job's id); a job whose lock is held is not filed.
--
-- KEYS[1]        delayed_queue_schedule
-- KEYS[2]        ts:delayed:due (ZSET id → due ms)
-- KEYS[3]        ts:delayed:records (HASH id → record)
-- KEYS[4]        ts:delayed:by-item (HASH `<second>:<sha1 of item>` → index members, space-separated)
-- KEYS[5]        ts:delayed:seq (the filing sequence)
-- KEYS, K per job i from KEYS[6]: delayed:<second>, timestamps:<item>, and for unique jobs its lock (`ts:unique:<key>`)
-- ARGV[1]        the promoters' wake-up channel (`ts:delayed:wake`)
-- ARGV[2]        the earliest due ms among these jobs, published on that channel
-- ARGV[3]        '1' when the jobs are unique (K = 3, A = 8), else '' (K = 2, A = 7)
-- ARGV, A per job i from ARGV[4]: second, `delayed:<second>` (the set member), item, id, due ms, record, by-item
--                field, and for unique jobs the lock's TTL (ms)
-- Returns        per job: '' when filed, else the id held by its lock
-- Index members are `<sequence, 15 digits>-<id>`: jobs due at the same millisecond sort in filing order, which is
-- their order in `delayed:<second>`, so promotion finds each at the head of its list.
local unique = ARGV[3] == '1'
local K, A = 2, 7
if unique then K, A = 3, 8 end
-- #include ../redis/lua/declared_keys.lua
local jobs = (declaredKeys() - 5) / K
local sequence = redis.call('INCRBY', KEYS[5], jobs) - jobs
local reply = {}
for i = 1, jobs do
  local k = 6 + (i - 1) * K
  local a = 3 + (i - 1) * A
  local id = ARGV[a + 4]
  reply[i] = ''
  if unique and not redis.call('SET', KEYS[k + 2], id, 'NX', 'PX', ARGV[a + 8]) then
    reply[i] = redis.call('GET', KEYS[k + 2]) or ''
  else
    local second = ARGV[a + 1]
    local member = string.format('%015d', sequence + i) .. '-' .. id
    redis.call('RPUSH', KEYS[k], ARGV[a + 3])
    redis.call('SADD', KEYS[k + 1], ARGV[a + 2])
    redis.call('ZADD', KEYS[1], second, second)
    redis.call('ZADD', KEYS[2], ARGV[a + 5], member)
    redis.call('HSET', KEYS[3], member, ARGV[a + 6])
    local copies = redis.call('HGET', KEYS[4], ARGV[a + 7])
    redis.call('HSET', KEYS[4], ARGV[a + 7], copies and (copies .. ' ' .. member) or member)
  end
end
redis.call('PUBLISH', ARGV[1], ARGV[2])
return reply
