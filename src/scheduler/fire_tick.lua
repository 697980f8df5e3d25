-- Enqueues one tick of a recurring schedule at most once, whoever fires it: the tick's claim is taken with SET NX
-- (it expires later) in the same step as the push, so two schedulers, a leader change or a restart never enqueue the
-- same tick twice. Also records, as resque-scheduler does, when the schedule last enqueued.
--
-- KEYS[1]  ts:schedule:tick:<name>:<tick ms> (the claim)
-- KEYS[2]  queues
-- KEYS[3]  queue:<name>
-- KEYS[4]  delayed:last_enqueued_at
-- KEYS[5]  ts:schedule:last-tick
-- ARGV[1]  claim time to live (ms)
-- ARGV[2]  queue name
-- ARGV[3]  payload
-- ARGV[4]  schedule name
-- ARGV[5]  enqueue time as Ruby's Time#to_s
-- ARGV[6]  the tick (epoch ms)
-- ARGV[7]  announce spec (Keys.announce): the queues reached wake idle workers
-- ARGV[8]  the job's tenant ('' for none: on a fair queue a job with one goes to its tenant's list, announce.lua)
-- Returns  1 when enqueued, 0 when the tick had already been fired
-- #include ../redis/lua/announce.lua
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then
  return 0
end
redis.call('SADD', KEYS[2], ARGV[2])
if not pushTenant(ARGV[7], ARGV[2], ARGV[8], ARGV[3]) then redis.call('RPUSH', KEYS[3], ARGV[3]) end
redis.call('HSET', KEYS[4], ARGV[4], ARGV[5])
local last = tonumber(redis.call('HGET', KEYS[5], ARGV[4]) or '0')
if tonumber(ARGV[6]) > last then
  redis.call('HSET', KEYS[5], ARGV[4], ARGV[6])
end
announce(ARGV[7], ARGV[2])
return 1
