-- Shared by the scripts that reserve jobs and end reservations (pasted in by `-- #include`, after limits.lua): unique
-- jobs' locks (docs/unique-jobs.md). A unique job's payload carries `"unique":{"key","mode","ttl"}`; its lock is
-- the unique-lock prefix (line 9 of Keys.limitSpec) .. key and holds the id of the job that took it. A lock is only
-- ever extended or deleted by the job whose id it holds. Items are first tested with a plain string.find, so a job
-- that is not unique costs no decoding.

-- The lock, mode, TTL and id of a unique job's item (or of an in-flight value: token \n queue \n item); nil for any
-- other item.
local function uniqueOf(lspec, text)
  if not string.find(text, '"unique":', 1, true) then return nil end
  local item = text
  if string.sub(text, 1, 1) ~= '{' then
    local first = string.find(text, '\n', 1, true)
    local second = first and string.find(text, '\n', first + 1, true)
    if not second then return nil end
    item = string.sub(text, second + 1)
  end
  local ok, payload = pcall(cjson.decode, item)
  if not ok or type(payload) ~= 'table' then return nil end
  local unique, id = payload['unique'], payload['id']
  if type(unique) ~= 'table' or type(unique['key']) ~= 'string' or type(id) ~= 'string' then return nil end
  return {
    class = payload['class'],
    lock = limitSpec(lspec)[9] .. unique['key'],
    mode = unique['mode'],
    ttl = tonumber(unique['ttl']) or 3600000,
    id = id,
  }
end

local function heldBy(u)
  return redis.call('GET', u.lock) == u.id
end

-- A job about to start: `while-queued` releases its lock; `until-finished` and `while-running` hold theirs for a TTL
-- from now (taking it if it is free). False when a `while-running` job's lock is held by another job: that job runs
-- now, and this duplicate must not start: it is counted per class in the dropped-duplicates hash (line 10 of
-- Keys.limitSpec).
local function uniqueStart(lspec, item)
  local u = uniqueOf(lspec, item)
  if not u then return true end
  local holder = redis.call('GET', u.lock)
  if u.mode == 'while-queued' then
    if holder == u.id then redis.call('DEL', u.lock) end
    return true
  end
  if holder == u.id then
    redis.call('PEXPIRE', u.lock, u.ttl)
  elseif not holder then
    redis.call('SET', u.lock, u.id, 'PX', u.ttl)
  elseif u.mode == 'while-running' then
    redis.call('HINCRBY', limitSpec(lspec)[10], tostring(u.class), 1)
    return false
  end
  return true
end

-- A reservation ends (`held` is the in-flight value): `how` is 'done' (success, final failure, discard), 'retry'
-- (the next attempt is due in `delay` ms) or 'back' (given back to its queue). `until-finished` keeps its lock across
-- retries (extended to the TTL past the retry's due time) and give-backs; `while-running` releases it on all three.
local function uniqueEnd(lspec, held, how, delay)
  local u = uniqueOf(lspec, held)
  if not u or u.mode == 'while-queued' or not heldBy(u) then return end
  if u.mode == 'until-finished' and how ~= 'done' then
    if how == 'retry' then redis.call('PEXPIRE', u.lock, math.max(tonumber(delay) or 0, 0) + u.ttl) end
    return
  end
  redis.call('DEL', u.lock)
end

-- A queued job removed (dequeue, the dashboard's removal): it ends for good, whatever its mode.
local function uniqueRemoved(lspec, item)
  local u = uniqueOf(lspec, item)
  if u and heldBy(u) then redis.call('DEL', u.lock) end
end

-- A job reserved by `reserve.lua`: true when it may start; otherwise it is a duplicate of a running `while-running`
-- job, dropped, and reported in `reply` as position 0 with `queue \n item` (the fetcher logs it).
local function uniqueStarts(lspec, queue, item, reply)
  if uniqueStart(lspec, item) then return true end
  reply[#reply + 1] = 0
  reply[#reply + 1] = queue .. '\n' .. item
  return false
end
