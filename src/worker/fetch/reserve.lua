-- One round trip of a worker's loop: finish the jobs its slots are done with, then fill its free slots.
-- A reservation moves an item atomically from the head of the first non-empty queue (priority order) into the
-- slot's in-flight key and writes the slot's Ruby-visible `worker:<slot>` status in the same step, so a worker
-- that dies at any moment leaves every job it took either on its queue or in its in-flight keys.
--
-- The namespace's keys and specs are constants in the script's text (one script per namespace:
-- fetch/reserve-script.ts), so a call sends only what changes:
-- ANNOUNCE_KEYS, LIMIT_KEYS, RATE_KEYS  Keys.announce, Keys.limitSpec, Keys.rateSpec as tables (announce.lua,
--                limits.lua, rate.lua), QUEUE_PREFIX `<ns>:queue:`, PAUSE_ALL pause-all-workers, PROCESSED
--                stat:processed, FAILED stat:failed, TOMBSTONES ts:cancelled-queued, CANCELLED_COUNT
--                ts:stat:cancelled (cancelled jobs are dropped: cancel/reserve_check.lua), WORKER_PREFIX `<ns>:worker:`.
-- The worker's slot-id template travels with each call rather than in the text: a script per worker process would
-- pile up in Redis's script cache, which keeps every script loaded until SCRIPT FLUSH.
-- A slot's keys, ts:inflight:<slot> and worker:<slot>, are built here from its id; in one-slot cluster mode they
-- share the declared key's slot (docs/cluster.md).
-- KEYS[1]    ts:queue-list:<digest>: the worker's queue list (below), stored by the call that sends it; it also routes
--            the call to the namespace's node
-- The per-slot counters (stat:processed:<slot>, stat:failed:<slot>) are not touched here: the worker adds what the
-- reply says was finished, with its next liveness beat (fleet/slot-counters.ts).
-- ARGV[1]    run_at for new statuses (UTC ISO-8601, as Ruby writes it)
-- ARGV[2]    S = number of slots in this call
-- ARGV[3]    queues named by the wake-ups that led to this call, one per line ('' if none)
-- ARGV[4]    now for rate limits (epoch ms), '' for the Redis clock (`TIME`, read only when a rate limit is checked)
-- ARGV[5], ARGV[6]  the slot-id template's head and tail: a slot's id is head .. its reference .. tail (slot n > 0
--                of worker `host:pid:queues` is `host~n:pid:queues`: head `host`, reference `~n`, tail `:pid:queues`)
-- ARGV[7..6+4S]  per slot, 4 values: its reference (its id less the head and the tail), token of the job it
--                finished ('' if none), '1' if that job failed else '0', fresh token to refill it with ('' to leave
--                it empty)
-- ARGV[7+4S]     the position of the entry to take from first, the others following in their order (weighted
--                queues, queue-weights.ts), or '' for the list's own order
-- ARGV[8+4S..]  only when Redis may not hold it: the queue list (queue-patterns.ts `storedList`), stored in
--                KEYS[1] (for a day: a call that finds it gone returns { -1 } having done nothing, and is sent
--                again with it). Its values: the number of entries N, then 3 values per entry in priority order,
--                then the exclusion rules, applied to glob matches:
--                'q', queue name, ''        a named queue
--                'g', literal prefix, rule  a glob (glob-rule.ts): its matches among the non-empty queues, in byte
--                                           order (Ruby's sort), found in the index from the prefix on
--                The entries are read a page at a time, only as far as the walk goes.
-- Queue keys are QUEUE_PREFIX .. name, built here because a glob's queues are only known once the index is read.
-- In-flight value (worker/fetch/inflight.ts): token .. "\n" .. queue .. "\n" .. item bytes. This script writes it
-- and compares tokens by prefix; it never parses it.
-- A finish applies only when the slot still holds that token, so a call resent after a lost reply never counts twice
-- nor clears a newer job. A slot to refill that still holds a job (a reservation whose reply was lost) hands that job
-- back instead of taking another. A slot finished and refilled in the same call is overwritten (SET), one that is not
-- refilled is deleted at the end: either way the keys end as if each step had run on its own.
-- Concurrency limits (docs/flow-control.md), only while `ts:limits` defines any: finished jobs free their tokens
-- first (each lets one parked job back to the head of its queue); then a popped job whose class, queue or
-- concurrency key is at its limit is parked (limits.lua) and the next job of that queue is looked at, so a full
-- limit never blocks the jobs behind it. Rate limits (only while `ts:rate-limits` defines any) are checked next: a
-- job whose rate limit has no room is parked on it (limits/rate.lua) and the limit is filed under the time it next
-- has room, for the promoters; a job taken records its start in the log of each of its rate limits. At most PARK_BUDGET jobs are parked per call; past that the call takes
-- nothing more and the queues it parked from are announced, so the next reservation goes on.
-- A fair queue's jobs are on its list and on its tenants' lists, served in turn (popTenant); a queue counts as empty
-- only when both are (queueHoldsJobs, announce.lua).
-- Afterwards each queue taken from leaves the index if it is now empty, else is announced again (announce.lua): this
-- worker has no free slot left, so the next idle one is woken. A call that emptied a queue announces the next one the
-- list would take from. A queue a wake-up named that still holds jobs is announced again too, so a wake-up this call
-- could not use passes on.
-- Returns  { -1 } when the queue list is not stored and was not sent (nothing done), else { paused (0/1), U = number of finishes that did not apply (the slot no longer held that token: a resent
--          call, or a reaper gave the job back while this worker seemed dead), then U slot positions, then per slot
--          that holds a job now: its position in the call (1-based), in-flight value; position 0 with
--          `queue \n item` is a unique job dropped as a duplicate of one running now (redis/lua/unique.lua) }
-- #include ../../redis/lua/announce.lua
-- Redis runs the whole text on every call, and every `local function` is a new closure each time: the functions of
-- concurrency and rate limits (limits.lua, rate.lua, plan.lua, about half of all) are made only by a call that needs
-- them, one that finds limits defined, holds to release or tombstones to trim.
local limitsLib
local function limits()
  if not limitsLib then
-- #include ../../redis/lua/limits.lua
-- #include ../../limits/rate.lua
-- #include ../../limits/plan.lua
    limitKeys, rateKeys = LIMIT_KEYS, RATE_KEYS
    limitsLib = {
      park = park, rateParkJob = rateParkJob, jobLimits = jobLimits, holdLimits = holdLimits,
      releaseLater = releaseLater, flushReleases = flushReleases, flushHolds = flushHolds, rateFlush = rateFlush,
      clockMs = clockMs,
    }
  end
  return limitsLib
end
-- What reserve_check.lua and unique.lua use of them.
local function clockMs(given) return limits().clockMs(given) end
local function limitSpec() return LIMIT_KEYS end
-- #include ../../cancel/reserve_check.lua
-- #include ../../redis/lua/unique.lua
-- The included files' specs, ready: their functions still take a spec argument, which they no longer read.
announceKeys = ANNOUNCE_KEYS
local spec, lspec, rspec = '', '', ''
local slotCount = tonumber(ARGV[2])
local SLOT_HEAD, SLOT_TAIL = ARGV[5], ARGV[6]
local queuePrefix = QUEUE_PREFIX
local index = ANNOUNCE_KEYS[1]
local GLOB_PAGE = 64
local PARK_BUDGET = 100
local tombstones, cancelledCount = TOMBSTONES, CANCELLED_COUNT

-- The queue list: stored when sent, else its entry count read first, before anything is written.
local listKey, listAt = KEYS[1], 7 + 4 * slotCount
local LIST_TTL_MS = 86400000
local entryCount
if #ARGV > listAt then
  redis.call('DEL', listKey)
  for a = listAt + 1, #ARGV, 1000 do redis.call('RPUSH', listKey, unpack(ARGV, a, math.min(a + 999, #ARGV))) end
  redis.call('PEXPIRE', listKey, LIST_TTL_MS)
  entryCount = tonumber(ARGV[listAt + 1])
else
  entryCount = tonumber(redis.call('LINDEX', listKey, 0))
  if not entryCount then return { -1 } end
end
local turn = tonumber(ARGV[listAt])

-- Cancelled jobs, paused queues, a pause of every worker and limits are rare: while none of their keys exists (Redis
-- drops an empty hash or sorted set), one EXISTS stands for the six reads below.
local anyFlow =
  redis.call('EXISTS', tombstones, ANNOUNCE_KEYS[5], PAUSE_ALL, LIMIT_KEYS[1], RATE_KEYS[1], LIMIT_KEYS[2]) > 0

local cancelling = anyFlow and cancelTombstones(tombstones, ARGV[4])

local pausedQueues = {}
if anyFlow and redis.call('HLEN', ANNOUNCE_KEYS[5]) > 0 then
  for _, name in ipairs(redis.call('HKEYS', ANNOUNCE_KEYS[5])) do pausedQueues[name] = true end
end

local paused = 0
local pause = anyFlow and redis.call('GET', PAUSE_ALL)
if pause and string.match(string.lower(pause), '^%s*true%s*$') then
  paused = 1
end

local empty = {}
local taken, takenFrom = {}, {}

-- Limit definitions, read once per call when there are any: field → N.
local limitDefs
if anyFlow and redis.call('HLEN', LIMIT_KEYS[1]) > 0 then
  limitDefs = {}
  local flat = redis.call('HGETALL', LIMIT_KEYS[1])
  for i = 1, #flat, 2 do limitDefs[flat[i]] = tonumber(flat[i + 1]) end
end
-- Rate limit definitions, likewise: field → "<N> <windowMs>".
local rateDefs
if anyFlow and redis.call('HLEN', RATE_KEYS[1]) > 0 then
  rateDefs = {}
  local flat = redis.call('HGETALL', RATE_KEYS[1])
  for i = 1, #flat, 2 do rateDefs[flat[i]] = flat[i + 1] end
end
local parkedCount = 0
local stopped = false
-- The token of the slot being filled.
local startToken

-- The head of a fair queue's next tenant (docs/flow-control.md, Fair sharing): the tenant at the front of the
-- rotation is served, and goes to the back once its turn is over (one job, or its weight's worth: the jobs served in
-- the current turn are counted in the turn key), or leaves the rotation once its list is empty. nil when no tenant has
-- jobs (a queue never made fair has an empty rotation: one LINDEX, only once its own list is empty).
-- Whether a queue has weights is read once per call (`weighted`).
local weighted = {}
local function popTenant(name)
  local ks = announceSpec(spec)
  local rotation, turn = ks[6] .. name, ks[9] .. name
  while true do
    local tenant = redis.call('LINDEX', rotation, 0)
    if not tenant then return nil end
    local list = ks[7] .. name .. ':' .. tenant
    local item = redis.call('LPOP', list)
    if weighted[name] == nil then weighted[name] = redis.call('HLEN', ks[8] .. name) > 0 end
    local weight = 1
    if weighted[name] then weight = tonumber(redis.call('HGET', ks[8] .. name, tenant)) or 1 end
    if not item or redis.call('LLEN', list) == 0 then
      redis.call('LPOP', rotation)
      if weighted[name] then redis.call('DEL', turn) end
    elseif weight <= 1 or redis.call('INCR', turn) >= weight then
      redis.call('RPUSH', rotation, redis.call('LPOP', rotation))
      if weight > 1 then redis.call('DEL', turn) end
    end
    if item then return item end
  end
end

-- The next item of queue `name` whose job was not cancelled: cancelled ones are dropped on the way, with their
-- unique locks.
local function popLive(name)
  while true do
    local item = redis.call('LPOP', queuePrefix .. name) or popTenant(name)
    if not (item and cancelling and dropCancelled(tombstones, cancelledCount, item)) then return item end
    uniqueRemoved(lspec, item)
    if not takenFrom[name] then
      takenFrom[name] = true
      taken[#taken + 1] = name
    end
  end
end

-- The next job of queue `name` this call may take, and the limits it counts against. The queue's own list comes
-- first (jobs of Ruby, untenanted jobs, jobs let back from parking, given back or retried), then its tenants in turn. Jobs whose limit is full are
-- parked on the way (on a full concurrency limit or a used-up rate limit); nil when the queue has no job left or the park budget is spent (`stopped`).
local function pop(name)
  while true do
    local item = popLive(name)
    if not item then
      empty[name] = true
      return nil
    end
    if not takenFrom[name] then
      takenFrom[name] = true
      taken[#taken + 1] = name
    end
    if not limitDefs and not rateDefs then return item end
    -- The limits it counts against, the first full one, or the first rate limit without room and when it next has
    -- some; a job that may start has its start recorded in its rate limits' logs (limits/plan.lua).
    local lib = limits()
    local names, full, rateFull, at = lib.jobLimits(lspec, rspec, limitDefs, rateDefs, name, item, ARGV[4], startToken)
    if full then
      lib.park(lspec, full, name, item)
    elseif rateFull then
      lib.rateParkJob(rspec, rateFull, name, item, at)
    else
      return item, names
    end
    parkedCount = parkedCount + 1
    if parkedCount >= PARK_BUDGET then
      stopped = true
      return nil
    end
  end
end

local exclusions
local function excluded(name)
  exclusions = exclusions or redis.call('LRANGE', listKey, 1 + 3 * entryCount, -1)
  for _, rule in ipairs(exclusions) do
    if matchesRule(name, rule) then return true end
  end
  return false
end

-- A glob's first non-empty match: the index is read a page at a time from the glob's prefix, and where a call left
-- off is kept in the entry, so filling many slots reads each member once. A member whose list turns out empty (a
-- client that is not resque-ts popped it) leaves the index.
-- With `peek`, the first match that holds jobs is returned (name only) and nothing is popped.
local function popGlob(entry, peek)
  while true do
    if not entry.page or entry.at > #entry.page then
      if entry.done then return nil end
      local from = entry.after and ('(' .. entry.after) or (entry.text == '' and '-' or '[' .. entry.text)
      local to = entry.text == '' and '+' or '(' .. entry.text .. '\255'
      entry.page = redis.call('ZRANGEBYLEX', index, from, to, 'LIMIT', 0, GLOB_PAGE)
      entry.at = 1
      entry.done = #entry.page < GLOB_PAGE
      if #entry.page == 0 then return nil end
    end
    local name = entry.page[entry.at]
    if not empty[name] and not pausedQueues[name] and matchesRule(name, entry.rule) and not excluded(name) then
      if peek then
        if queueHoldsJobs(spec, queuePrefix, name) then return name end
        empty[name] = true
      else
        local item, names = pop(name)
        if item then return name, item, names end
        if stopped then return nil end
      end
      redis.call('ZREM', index, name)
    end
    entry.after = name
    entry.at = entry.at + 1
  end
end

-- The list's entries by position, read a page at a time as the walk reaches them. A page naming several queues asks
-- the index which of them hold jobs, in one command, instead of popping each in turn in every call; a queue another
-- client filled is found once the repair pass has indexed it (within the poll interval, as a poll would find it).
local ENTRY_PAGE = 32
local NAMED_FILTER_MIN = 4
local entries = {}
local function readPage(first)
  local values = redis.call('LRANGE', listKey, 3 * first - 2, 3 * (first + ENTRY_PAGE - 1))
  local names = {}
  for v = 1, #values - 2, 3 do
    local entry = { glob = values[v] == 'g', text = values[v + 1], rule = values[v + 2] }
    entries[first + (v - 1) / 3] = entry
    if not entry.glob then names[#names + 1] = entry.text end
  end
  if #names < NAMED_FILTER_MIN then return end
  local scores = redis.call('ZMSCORE', index, unpack(names))
  for i, name in ipairs(names) do
    if not scores[i] then empty[name] = true end
  end
end

-- The i-th entry in this call's order: with a turn, that entry first and the others after it in their order.
local function entryAt(i)
  if turn then
    if i == 1 then i = turn elseif i <= turn then i = i - 1 end
  end
  if not entries[i] then readPage(i - (i - 1) % ENTRY_PAGE) end
  return entries[i]
end

-- Entries before `firstLive` gave nothing in this call (empty or paused queues, globs with no match left), and none
-- fills again within it: each slot's walk starts there instead of at the head of the list.
local firstLive = 1
local function popFirst()
  for e = firstLive, entryCount do
    if stopped then return nil end
    local entry = entryAt(e)
    if entry.glob then
      local name, item, names = popGlob(entry)
      if item then return name, item, names end
    elseif not empty[entry.text] and not pausedQueues[entry.text] then
      local item, names = pop(entry.text)
      if item then return entry.text, item, names end
    end
    if stopped then return nil end
    firstLive = e + 1
  end
  return nil
end

-- The queue this worker's list would take from next, if any holds jobs.
local function nextQueue()
  for e = firstLive, entryCount do
    local entry = entryAt(e)
    if entry.glob then
      local name = popGlob(entry, true)
      if name then return name end
    elseif not empty[entry.text] and not pausedQueues[entry.text]
        and queueHoldsJobs(spec, queuePrefix, entry.text) then
      return entry.text
    end
  end
  return nil
end

local function jsonString(text)
  if not string.find(text, '[%c"\\]') then return '"' .. text .. '"' end
  return (string.gsub(cjson.encode(text), '\\/', '/'))
end

local processed, failed = 0, 0
local result = { paused }
local unmatched = {}
local toDelete = {}
local holding = {}
local releasing = anyFlow and redis.call('HLEN', LIMIT_KEYS[2]) > 0
-- Each slot's keys, from its id.
local inflightKeys, statusKeys = {}, {}
for s = 1, slotCount do
  local slot = SLOT_HEAD .. ARGV[3 + 4 * s] .. SLOT_TAIL
  inflightKeys[s], statusKeys[s] = LIMIT_KEYS[7] .. slot, WORKER_PREFIX .. slot
end
-- What every slot of the call holds, read in one command however many slots it names (MGET, a thousand at a time).
local heldBySlot = {}
for first = 1, slotCount, 1000 do
  local last = math.min(first + 999, slotCount)
  local values = redis.call('MGET', unpack(inflightKeys, first, last))
  for i = 1, last - first + 1 do heldBySlot[first + i - 1] = values[i] end
end
-- First every finish, so the tokens they free (and the parked jobs those let back) count for this call's refills.
for s = 1, slotCount do
  local inflightKey = inflightKeys[s]
  local finishToken = ARGV[4 + 4 * s]
  local held = heldBySlot[s]
  local finished = finishToken ~= '' and held and string.sub(held, 1, #finishToken + 1) == finishToken .. '\n'
  if finishToken ~= '' and not finished then
    table.insert(unmatched, s)
  end
  if finished then
    if cancelling then forgetTombstone(tombstones, held) end
    uniqueEnd(lspec, held, 'done')
    held = false
    processed = processed + 1
    if ARGV[5 + 4 * s] == '1' then
      failed = failed + 1
    end
    if releasing then limits().releaseLater(inflightKey, finishToken) end
  end
  holding[s] = { held = held, finished = finished }
end
if releasing then limits().flushReleases(lspec, spec) end
for s = 1, slotCount do
  local inflightKey, statusKey = inflightKeys[s], statusKeys[s]
  local fresh = ARGV[6 + 4 * s]
  local held, finished = holding[s].held, holding[s].finished
  if fresh ~= '' then
    if held then
      table.insert(result, s)
      table.insert(result, held)
    else
      local name, item, names
      startToken = fresh
      if paused == 0 then name, item, names = popFirst() end
      while item and not uniqueStarts(lspec, name, item, result) do name, item, names = popFirst() end
      if item then
        local shown = item
        if string.sub(item, 1, 1) ~= '{' or string.sub(item, -1) ~= '}' then
          shown = '{"class":"(malformed payload)","args":[]}'
        end
        local value = fresh .. '\n' .. name .. '\n' .. item
        redis.call('SET', inflightKey, value)
        redis.call('SET', statusKey,
          '{"queue":' .. jsonString(name) .. ',"run_at":"' .. ARGV[1] .. '","payload":' .. shown .. '}')
        if names and #names > 0 then limitsLib.holdLimits(lspec, inflightKey, fresh, names) end
        table.insert(result, s)
        table.insert(result, value)
      elseif finished then
        table.insert(toDelete, s)
      end
    end
  elseif finished then
    table.insert(toDelete, s)
  end
end
if limitsLib then
  limitsLib.flushHolds(lspec)
  limitsLib.rateFlush()
end
if processed > 0 then
  redis.call('INCRBY', PROCESSED, processed)
end
if failed > 0 then
  redis.call('INCRBY', FAILED, failed)
end
for _, s in ipairs(toDelete) do
  redis.call('DEL', inflightKeys[s], statusKeys[s])
end
local emptied = false
for _, name in ipairs(taken) do
  if not queueHoldsJobs(spec, queuePrefix, name) then
    redis.call('ZREM', index, name)
    emptied = true
  else
    announce(spec, name, true)
  end
end
-- A glob listener's list holds one token however many of its queues were announced together (a promotion, a repair
-- pass): a call that took a queue's last job announces the next queue this list would take from, so the wake-ups go
-- on from queue to queue.
if emptied then
  local name = nextQueue()
  if name and not takenFrom[name] then announce(spec, name) end
end
for name in string.gmatch(ARGV[3], '[^\n]+') do
  if not takenFrom[name] and queueHoldsJobs(spec, queuePrefix, name) then announce(spec, name) end
end
table.insert(result, 2, #unmatched)
for i, s in ipairs(unmatched) do
  table.insert(result, 2 + i, s)
end
return result
