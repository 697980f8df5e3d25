-- The slots whose liveness beat is older than the timeout: what a reaper pass looks at, O(log n + expired) however
-- large the fleet.
-- KEYS[1]  ts:liveness
-- ARGV[1]  now in epoch ms, or '' for the Redis clock (TIME)
-- ARGV[2]  liveness timeout (ms): a beat older than this is dead
-- ARGV[3]  the most slots to return
-- ARGV[4]  the asking worker's own id: its last beat comes back too, so a reaper that is itself late judges no one
-- Returns  { now, the asking worker's last beat or -1, slot id... }
local now = tonumber(ARGV[1])
if not now then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - tonumber(ARGV[2])), 'LIMIT', 0, tonumber(ARGV[3]))
local own = redis.call('ZSCORE', KEYS[1], ARGV[4])
table.insert(expired, 1, tonumber(own) or -1)
table.insert(expired, 1, now)
return expired
