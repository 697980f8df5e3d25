-- Counts one failure in its error group, creating the group on first sight, and keeps at most ARGV[10] groups
-- (the least recently seen are evicted). Runs in the same pipeline as the failure's RPUSH.
-- KEYS[1]  ZSET group id -> last seen (epoch ms)
-- KEYS[2]  HASH group id -> JSON details
-- ARGV[1]  group id
-- ARGV[2]  when the failure happened, epoch ms
-- ARGV[3]  release that wrote it
-- ARGV[4]  queue
-- ARGV[5]  job class
-- ARGV[6]  exception
-- ARGV[7]  normalised message
-- ARGV[8]  top application frame
-- ARGV[9]  the failure's own error message (latest sample, truncated by the caller)
-- ARGV[10] most groups kept
-- ARGV[11] most queues / classes remembered per group
-- Returns  the group's count including this failure
local id = ARGV[1]
local seen = tonumber(ARGV[2])
local release = ARGV[3]
local cap = tonumber(ARGV[11])

local group
local stored = redis.call('HGET', KEYS[2], id)
if stored then
  local ok, decoded = pcall(cjson.decode, stored)
  if ok and type(decoded) == 'table' then group = decoded end
end
if not group then
  group = {
    id = id, class = ARGV[5], exception = ARGV[6], message = ARGV[7], frame = ARGV[8], count = 0,
    firstSeenMs = seen, firstRelease = release, lastSeenMs = seen, lastRelease = release, queues = {}, classes = {},
  }
end

local function remember(list, value)
  if type(list) ~= 'table' then list = {} end
  for _, known in ipairs(list) do
    if known == value then return list end
  end
  if #list < cap then list[#list + 1] = value end
  return list
end

group.count = (tonumber(group.count) or 0) + 1
if seen < (tonumber(group.firstSeenMs) or seen) then
  group.firstSeenMs = seen
  group.firstRelease = release
end
if seen >= (tonumber(group.lastSeenMs) or 0) then
  group.lastSeenMs = seen
  group.lastRelease = release
  group.sampleError = ARGV[9]
end
group.queues = remember(group.queues, ARGV[4])
group.classes = remember(group.classes, ARGV[5])

redis.call('HSET', KEYS[2], id, cjson.encode(group))
redis.call('ZADD', KEYS[1], group.lastSeenMs, id)

local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[10])
if excess > 0 then
  local evicted = redis.call('ZRANGE', KEYS[1], 0, excess - 1)
  redis.call('HDEL', KEYS[2], unpack(evicted))
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, excess - 1)
end
return group.count
