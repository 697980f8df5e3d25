-- A resque-ts worker's liveness beat: every slot of the worker gets the beat's time in `ts:liveness`, and the reply
-- says whether the worker is still registered (a peer may have taken it for dead while it was stalled).
-- KEYS[1]  ts:liveness (ZSET slot id -> last beat, epoch ms by the Redis clock)
-- KEYS[2]  workers
-- ARGV[1]  now in epoch ms, or '' for the Redis clock (TIME)
-- ARGV[2..] the worker's slot ids, its own id first
-- Returns  { now, 1 if its first slot is in `workers` else 0 }
local now = tonumber(ARGV[1])
if not now then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
local members = {}
for i = 2, #ARGV do
  members[#members + 1] = now
  members[#members + 1] = ARGV[i]
end
redis.call('ZADD', KEYS[1], unpack(members))
return { now, redis.call('SISMEMBER', KEYS[2], ARGV[2]) }
