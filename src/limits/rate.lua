-- Shared by the scripts that start, give back and let back rate-limited jobs (pasted in by `-- #include`, after
-- announce.lua and limits.lua): rate limits (docs/flow-control.md). A rate limit is named as a concurrency limit
-- (`class:<Class>`, `queue:<name>`, `key:<Class> <key>`) and defined by the same field in the rate definitions,
-- `"<N> <windowMs>"`. Its log is a sorted set of recent starts, grouped: the starts one script call made together
-- (at one `now`) are one member, `<token>` for one start or `<token> <count>` for more (the token of the group's
-- first reservation), scored by that time in ms; member `starts` holds the number of starts the groups add up to, as
-- a negative score, so trimming by time never reaches it. A start counts in the windows (start - window, start], so
-- a limit has room at `now` while the groups scored above `now - window` add up to fewer than N. Member `blocked`
-- (score = until when) holds the limit shut, whatever its log says.
-- Every decision is made at `now`, an ARGV of the calling script ('' for the Redis clock, `TIME`).
-- rspec  Keys.rateSpec: definitions, log prefix, due index, parked-list prefix, promoters' wake channel; one per line.
local rateKeys
local BLOCKED = 'blocked'
local STARTS = 'starts'

local function rateSpec(rspec)
  if not rateKeys then
    rateKeys = {}
    for line in string.gmatch(rspec, '[^\n]+') do rateKeys[#rateKeys + 1] = line end
  end
  return rateKeys
end

-- The time of the decision, in epoch ms: the caller's, or the Redis clock (effects replication: Redis 5 and later).
local function clockMs(given)
  if given ~= '' then return tonumber(given) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- A definition's N and window, or nil for none.
local function rateDefinition(value)
  if not value then return nil end
  local n, w = string.match(value, '^(%d+) (%d+)$')
  if not n then return nil end
  return tonumber(n), tonumber(w)
end

-- Per script call: the room each limit was found to have at `now` (`rateSeen[name]` = { now, room }), counted down
-- by this call's starts, so a call that starts many jobs of one limit reads its log once.
local rateSeen = {}
-- Starts recorded by this call and not yet written, per limit: { key, w, now, token, count }.
local rateStarts = {}

-- How many starts a log member stands for.
local function groupSize(member)
  return tonumber(string.match(member, ' (%d+)$')) or 1
end

-- The log lives until its newest entry leaves the window (or its block ends).
local function rateExpire(key, w, now)
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if last[2] then redis.call('PEXPIRE', key, math.max(1, tonumber(last[2]) + w - now)) end
end

-- Writes the starts of limit `name` recorded by this call (one member, and the log's count) and sets the log's
-- expiry.
local function flushStarts(name)
  local pending = rateStarts[name]
  if not pending then return end
  rateStarts[name] = nil
  local member = pending.count == 1 and pending.token or (pending.token .. ' ' .. pending.count)
  redis.call('ZADD', pending.key, pending.now, member)
  redis.call('ZINCRBY', pending.key, -pending.count, STARTS)
  rateExpire(pending.key, pending.w, pending.now)
end

-- Drops the groups of log `key` that left the window (w ms) at `now`; returns how many starts remain in it.
local function rateTrim(key, w, now)
  local total = -(tonumber(redis.call('ZSCORE', key, STARTS)) or 0)
  local expired = redis.call('ZRANGEBYSCORE', key, 0, now - w)
  if #expired == 0 then return total end
  for _, member in ipairs(expired) do
    if member ~= BLOCKED then total = total - groupSize(member) end
  end
  redis.call('ZREMRANGEBYSCORE', key, 0, now - w)
  if total > 0 then
    redis.call('ZADD', key, -total, STARTS)
  else
    total = 0
    redis.call('ZREM', key, STARTS)
  end
  return total
end

-- When limit `name` (N `n` per `w` ms; `n` nil: undefined, only a block holds it) next has room, and how many
-- starts it has room for now: (nil, room) when it has room now, (ms, 0) when not. Trims the log.
local function rateRoom(rspec, name, n, w, now)
  local seen = rateSeen[name]
  if seen and seen.now == now and seen.room > 0 then return nil, seen.room end
  flushStarts(name)
  local key = rateSpec(rspec)[2] .. name
  local blocked = redis.call('ZSCORE', key, BLOCKED)
  if blocked then
    if tonumber(blocked) > now then return tonumber(blocked), 0 end
    redis.call('ZREM', key, BLOCKED)
  end
  if not n then return nil, math.huge end
  local count = rateTrim(key, w, now)
  if count < n then
    rateSeen[name] = { now = now, room = n - count }
    return nil, n - count
  end
  -- Full: it has room again once the oldest starts that keep it full have left the window.
  local leaving, from = count - n + 1, 0
  while true do
    local page = redis.call('ZRANGEBYSCORE', key, '(' .. (now - w), '+inf', 'WITHSCORES', 'LIMIT', from, 100)
    if #page == 0 then return now + w, 0 end
    for i = 1, #page, 2 do
      if page[i] ~= BLOCKED then
        leaving = leaving - groupSize(page[i])
        if leaving <= 0 then return tonumber(page[i + 1]) + w, 0 end
      end
    end
    from = from + 100
  end
end

-- The earliest start in the window of limit `name`, or nil when its log is empty (after rateRoom has trimmed it).
local function rateOldest(rspec, name)
  local first = redis.call('ZRANGEBYSCORE', rateSpec(rspec)[2] .. name, 0, '+inf', 'WITHSCORES', 'LIMIT', 0, 2)
  if first[1] == BLOCKED then return first[4] and tonumber(first[4]) or nil end
  return first[2] and tonumber(first[2]) or nil
end

-- Records that reservation `token` starts under limit `name` at `now`: counted at once, written with the call's
-- other starts of the limit by rateFlush (one member, and the log's expiry once), which the caller runs before it
-- returns.
local function rateRecord(rspec, name, w, now, token)
  local seen = rateSeen[name]
  if seen and seen.now == now then seen.room = seen.room - 1 end
  local pending = rateStarts[name]
  if pending then
    pending.count = pending.count + 1
  else
    rateStarts[name] = { key = rateSpec(rspec)[2] .. name, w = w, now = now, token = token, count = 1 }
  end
end

-- Writes every start this call recorded.
local function rateFlush()
  for name in pairs(rateStarts) do flushStarts(name) end
end

-- Holds limit `name` shut until `untilMs` (a later block wins).
local function rateBlock(rspec, name, w, untilMs, now)
  local key = rateSpec(rspec)[2] .. name
  local current = redis.call('ZSCORE', key, BLOCKED)
  if not current or tonumber(current) < untilMs then redis.call('ZADD', key, untilMs, BLOCKED) end
  rateExpire(key, w or 0, now)
end

-- Limit `name` has parked jobs to let back at `at` (an earlier time wins); promoters are told of it.
local function rateDue(rspec, name, at)
  local k = rateSpec(rspec)
  local current = redis.call('ZSCORE', k[3], name)
  if not current or tonumber(current) > at then
    redis.call('ZADD', k[3], at, name)
    redis.call('PUBLISH', k[5], at)
  end
end

-- Parks a job popped from `queue` on rate limit `name` until `at`: at the tail (oldest first), or at the head
-- (`first`) for a job that had started.
local function rateParkJob(rspec, name, queue, item, at, first)
  redis.call(first and 'LPUSH' or 'RPUSH', rateSpec(rspec)[4] .. name, queue .. '\n' .. item)
  rateDue(rspec, name, at)
end

-- The rate limits a decoded payload popped from `queue` counts against, with their N and window, given the
-- definitions `defs` (field → value): { { name, n, w }, … }.
local function rateLimitsOf(defs, queue, payload)
  local found = {}
  local function add(name, field)
    local n, w = rateDefinition(defs[field])
    if n then found[#found + 1] = { name = name, n = n, w = w } end
  end
  add('queue:' .. queue, 'queue:' .. queue)
  if type(payload) == 'table' and type(payload['class']) == 'string' then
    local class = payload['class']
    add('class:' .. class, 'class:' .. class)
    local key = payload['rate_key']
    if type(key) == 'string' and key ~= '' then add('key:' .. class .. ' ' .. key, 'key:' .. class) end
  end
  return found
end
