-- Drops the glob listeners no worker has registered for a while (workers register theirs every minute), with their
-- wake lists, so that announcements stop testing rules nobody listens with. A listener registered before its
-- registrations were timed gets the current time, and so the full while to be registered again.
--
-- KEYS[1]  ts:wake-globs
-- KEYS[2]  ts:wake-globs-seen
-- ARGV[1]  now (epoch ms), '' for the Redis clock
-- ARGV[2]  how long a listener stays without being registered (ms)
-- ARGV[3]  the prefix of the glob wake lists (`<ns>:ts:wake-glob:`)
-- Returns  the names dropped
local now = tonumber(ARGV[1])
if not now then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
for _, name in ipairs(redis.call('HKEYS', KEYS[1])) do
  if not redis.call('ZSCORE', KEYS[2], name) then redis.call('ZADD', KEYS[2], now, name) end
end
local stale = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. (now - tonumber(ARGV[2])))
for _, name in ipairs(stale) do
  redis.call('HDEL', KEYS[1], name)
  redis.call('ZREM', KEYS[2], name)
  redis.call('DEL', ARGV[3] .. name)
end
return stale
