-- Shared by the scripts that reserve jobs and end reservations (pasted in by `-- #include`, after announce.lua):
-- concurrency limits (docs/flow-control.md). A limit is named `class:<Class>`, `queue:<name>` or
-- `key:<Class> <key>`; its tokens are the slot ids in its holder set, and `ts:limit-holds` says, per slot (by its
-- in-flight key, which the scripts have at hand), which limits the slot's reservation holds (their names, one per
-- line), so the step that ends a reservation frees exactly its tokens. Every script that ends or replaces a reservation first checks the slot's in-flight key still holds it,
-- so a resent call frees nothing twice.
-- A job whose limit is full is parked on that limit's list; each freed token moves one parked job back to the head
-- of its queue and announces the queue. Scripts that take tokens call flushHolds, and those that free many with
-- releaseLater call flushReleases (and then flushHolds), before they return.
-- lspec  Keys.limitSpec: limit definitions, holds, holder-set prefix, parked-list prefix, queue-key prefix, `queues`,
--        in-flight key prefix, parked index; one per line.
local limitKeys

-- The spec's keys: { limits, holds, holder prefix, parked prefix, queue prefix, queues, in-flight prefix, parked
-- index }.
local function limitSpec(lspec)
  if not limitKeys then
    limitKeys = {}
    for line in string.gmatch(lspec, '[^\n]+') do limitKeys[#limitKeys + 1] = line end
  end
  return limitKeys
end

-- Per script call: how many tokens each limit had when first counted, kept up to date by this call's holds and
-- releases (a call is atomic: nothing else changes them meanwhile), and whether any limit has parked jobs (nil: not
-- read yet), so a call that reserves or ends many jobs of one limit reads each once. `unwritten` is, per limit, the
-- tokens this call has taken less those it has freed and not yet written to the holder set (flushHolds).
local heldCounts = {}
local unwritten = {}
local anyParked

-- How many tokens of limit `name` are held.
local function heldCount(lspec, name)
  local count = heldCounts[name]
  if not count then
    count = redis.call('SCARD', limitSpec(lspec)[3] .. name) + (unwritten[name] or 0)
    heldCounts[name] = count
    unwritten[name] = nil
  end
  return count
end

-- Counts a token of each limit in `names` as taken (+1) or freed (-1) by this call, not yet written: in the count
-- once the limit has been counted, else in what its count will add to the holder set's size.
local function countUnwritten(names, delta)
  for i = 1, #names do
    local name = names[i]
    local count = heldCounts[name]
    if count then
      heldCounts[name] = count + delta
    else
      unwritten[name] = (unwritten[name] or 0) + delta
    end
  end
end

-- The member `field` of a payload as our payloads end with it (`,"field":"value"` before the closing brace, or
-- before the members written after it, stripped first): (value, rest) with `rest` the text before it, or nil.
local function tailMember(text, field)
  local value = string.match(text, ',"' .. field .. '":"([^"\\]*)"$')
  if not value then return nil, text end
  return value, string.sub(text, 1, #text - #field - #value - 6)
end

-- What the limits read from a job's payload: its class, concurrency key and rate key (nil when absent), or nil for
-- an item that is not a JSON object. Our payloads are read without decoding: the class is the first member, the keys
-- end the payload (`"concurrency_key"`, `"rate_key"`, `"tenant"`, in that order: protocol/payload.ts), and a key
-- whose name appears nowhere is absent. Anything else (an escaped class name, members written after the keys, a
-- nested object naming a key) is decoded, so the answer is cjson's either way.
local function payloadFields(item)
  local class = string.match(item, '^{"class":"([^"\\]*)","args":')
  if class then
    local keyed = string.find(item, '"concurrency_key"', 1, true)
    local rated = string.find(item, '"rate_key"', 1, true)
    if not keyed and not rated then return { class = class } end
    if string.sub(item, -1) == '}' then
      local rest = string.sub(item, 1, -2)
      local _, concurrencyKey, rateKey
      _, rest = tailMember(rest, 'tenant')
      rateKey, rest = tailMember(rest, 'rate_key')
      concurrencyKey, rest = tailMember(rest, 'concurrency_key')
      if (concurrencyKey or not keyed) and (rateKey or not rated) then
        return { class = class, concurrency_key = concurrencyKey, rate_key = rateKey }
      end
    end
  end
  local ok, payload = pcall(cjson.decode, item)
  if ok and type(payload) == 'table' then return payload end
  return nil
end

-- A slot's id, from its in-flight key (worked out once per call: a call reads it when the slot's job ends and again
-- when the slot is refilled).
local slotIds = {}
local function slotOf(lspec, inflightKey)
  local slot = slotIds[inflightKey]
  if not slot then
    slot = string.sub(inflightKey, #limitSpec(lspec)[7] + 1)
    slotIds[inflightKey] = slot
  end
  return slot
end

-- Moves the oldest job parked on `name` back to the head of its queue (of its tenant's list on a fair queue) and
-- announces the queue. Returns true if one was there.
local function hasParked(k)
  if anyParked == nil then anyParked = redis.call('SCARD', k[8]) > 0 end
  return anyParked
end

local function unparkOne(lspec, aspec, name)
  local k = limitSpec(lspec)
  if not hasParked(k) then return false end
  local entry = redis.call('LPOP', k[4] .. name)
  if not entry then return false end
  if redis.call('LLEN', k[4] .. name) == 0 then redis.call('SREM', k[8], name) end
  local cut = string.find(entry, '\n', 1, true)
  local queue = string.sub(entry, 1, cut - 1)
  returnJob(aspec, k[5] .. queue, queue, string.sub(entry, cut + 1))
  redis.call('SADD', k[6], queue)
  announce(aspec, queue)
  return true
end

-- Parks a job popped from `queue` on the full limit `name` (at the tail: parked jobs come back oldest first).
local function park(lspec, name, queue, item)
  local k = limitSpec(lspec)
  redis.call('RPUSH', k[4] .. name, queue .. '\n' .. item)
  redis.call('SADD', k[8], name)
  anyParked = true
end

-- The shared limit (a queue's or a class's, among `shared`) whose parked jobs the oldest job parked on key limit
-- `name` would wait behind: one it counts against that has jobs parked. nil when none has.
local function sharedWaiting(k, name, shared)
  local entry
  for _, limit in ipairs(shared) do
    if redis.call('LLEN', k[4] .. limit) > 0 then
      if string.sub(limit, 1, 6) ~= 'queue:' then return limit end
      entry = entry or redis.call('LINDEX', k[4] .. name, 0)
      if not entry then return nil end
      if 'queue:' .. string.sub(entry, 1, string.find(entry, '\n', 1, true) - 1) == limit then return limit end
    end
  end
  return nil
end

-- Lets parked jobs back for the tokens a reservation freed (`names`, the limits its hold named): one per limit.
-- Fair between keys: the job a freed key token would let back joins the back of a shared limit's parked list
-- instead, when jobs (of other keys) already wait there for that limit, so a key with many parked jobs does not take
-- every slot of the shared limit its own tokens free, ahead of the keys waiting for it.
local function letBack(lspec, aspec, names)
  local k = limitSpec(lspec)
  if not hasParked(k) then return end
  local shared, keyed = {}, {}
  for _, name in ipairs(names) do
    if string.sub(name, 1, 4) == 'key:' then keyed[#keyed + 1] = name else shared[#shared + 1] = name end
  end
  for _, name in ipairs(shared) do unparkOne(lspec, aspec, name) end
  for _, name in ipairs(keyed) do
    local behind = #shared > 0 and sharedWaiting(k, name, shared)
    if behind then
      local entry = redis.call('LPOP', k[4] .. name)
      if entry then
        redis.call('RPUSH', k[4] .. behind, entry)
        if redis.call('LLEN', k[4] .. name) == 0 then redis.call('SREM', k[8], name) end
      end
    else
      unparkOne(lspec, aspec, name)
    end
  end
end

-- A field every non-empty holds hash has, whose value is longer than Redis stores in a listpack (64 bytes, the
-- default `hash-max-listpack-value`): a listpack is searched field by field, so reading the holds of a call's 50
-- slots would cost as much as the rest of the call. It names no limit, so readers of the holds skip it.
local HASHTABLE_FIELD = '~hashtable'
local HASHTABLE_VALUE = 'keeps this hash out of the listpack encoding, which is searched field by field'

-- Deletes slots' holds (a list); the hash goes once only HASHTABLE_FIELD is left.
local function dropHolds(k, slots)
  redis.call('HDEL', k[2], unpack(slots))
  if redis.call('HLEN', k[2]) == 1 then redis.call('DEL', k[2]) end
end

-- The limits a hold names (nil for none). A hold's value is the same for every reservation of one queue and class
-- (and keys), so it is parsed once per call.
local holdNamesOf = {}
local function holdNames(hold)
  if not hold then return nil end
  local names = holdNamesOf[hold]
  if not names then
    names = {}
    for name in string.gmatch(hold, '[^\n]+') do names[#names + 1] = name end
    holdNamesOf[hold] = names
  end
  return names
end

-- Frees the tokens the slot's reservation holds (the caller has checked the slot's in-flight key still holds that
-- reservation; `_token` is its token): each limit loses the slot from its holders and lets one parked job back
-- (unless `keepParked`: the sweep lets them back by room; see letBack).
local function releaseLimits(lspec, aspec, slot, _token, keepParked)
  local k = limitSpec(lspec)
  local names = holdNames(redis.call('HGET', k[2], k[7] .. slot))
  if not names then return end
  dropHolds(k, { k[7] .. slot })
  for _, name in ipairs(names) do
    if redis.call('SREM', k[3] .. name, slot) == 1 and heldCounts[name] then
      heldCounts[name] = heldCounts[name] - 1
    end
  end
  if not keepParked then letBack(lspec, aspec, names) end
end

-- releaseLimits for many slots of one call, in a few commands: releaseLater queues the release of a slot whose
-- reservation ended (checked by the caller; the slot named by its in-flight key), flushReleases reads every hold in one HMGET and frees the tokens.
-- While no limit has parked jobs, nothing is let back, so the writes wait for flushHolds: a slot refilled in the same
-- call with a job that holds the same limits (a busy worker's usual case) then keeps its hold and its holder-set
-- memberships as they are, and costs no write at all. Otherwise the tokens are freed at once (one HDEL, one SREM per
-- limit) and parked jobs let back in the order the releases were queued.
local pendingReleases = {}
-- In-flight key → hold of the releases flushReleases has counted and flushHolds is to write.
local deferredReleases = {}
local function releaseLater(inflightKey, _token)
  pendingReleases[#pendingReleases + 1] = inflightKey
end

local function flushReleases(lspec, aspec)
  if #pendingReleases == 0 then return end
  local k = limitSpec(lspec)
  local slots = pendingReleases
  pendingReleases = {}
  local holds = redis.call('HMGET', k[2], unpack(slots))
  if not hasParked(k) then
    local byHold = {}
    for i = 1, #slots do
      local hold = holds[i]
      if hold then
        deferredReleases[slots[i]] = hold
        byHold[hold] = (byHold[hold] or 0) + 1
      end
    end
    for hold, count in pairs(byHold) do countUnwritten(holdNames(hold), -count) end
    return
  end
  local freed, holders, released = {}, {}, {}
  for i, inflightKey in ipairs(slots) do
    local names = holdNames(holds[i])
    if names then
      freed[#freed + 1] = inflightKey
      local slot = slotOf(lspec, inflightKey)
      for _, name in ipairs(names) do
        if not holders[name] then holders[name] = {} end
        holders[name][#holders[name] + 1] = slot
      end
      released[#released + 1] = names
    end
  end
  if #freed == 0 then return end
  dropHolds(k, freed)
  for name, list in pairs(holders) do
    local removed = redis.call('SREM', k[3] .. name, unpack(list))
    if heldCounts[name] then heldCounts[name] = heldCounts[name] - removed end
  end
  for _, names in ipairs(released) do letBack(lspec, aspec, names) end
end

-- Records that the reservation `token` of the slot whose in-flight key is `inflightKey` holds the limits `names` (a
-- list; `names.hold`, if set, is their hold value): one token of each. Counted at once, written by flushHolds in a few commands (one SADD and SREM per limit,
-- one HSET, one HDEL): the caller flushes before it returns.
local pendingHolds = {}
local function holdLimits(lspec, inflightKey, _token, names)
  local hold = names.hold or table.concat(names, '\n')
  local count = names[2] == nil and heldCounts[names[1]]
  if count then
    heldCounts[names[1]] = count + 1
  else
    countUnwritten(names, 1)
  end
  if deferredReleases[inflightKey] == hold then
    deferredReleases[inflightKey] = nil
  else
    pendingHolds[#pendingHolds + 1] = { inflightKey, hold, names }
  end
end

-- Appends `slot` to the list of `name` in `lists`.
local function listUnder(lists, name, slot)
  local list = lists[name]
  if not list then
    list = {}
    lists[name] = list
  end
  list[#list + 1] = slot
end

local function flushHolds(lspec)
  local k = limitSpec(lspec)
  local dropped, leaving = {}, {}
  for inflightKey, hold in pairs(deferredReleases) do
    dropped[#dropped + 1] = inflightKey
    for _, name in ipairs(holdNames(hold)) do listUnder(leaving, name, slotOf(lspec, inflightKey)) end
  end
  deferredReleases = {}
  if #dropped > 0 then
    dropHolds(k, dropped)
    for name, list in pairs(leaving) do redis.call('SREM', k[3] .. name, unpack(list)) end
  end
  if #pendingHolds > 0 then
    local fields, joining = {}, {}
    for _, pending in ipairs(pendingHolds) do
      fields[#fields + 1] = pending[1]
      fields[#fields + 1] = pending[2]
      for _, name in ipairs(pending[3]) do listUnder(joining, name, slotOf(lspec, pending[1])) end
    end
    pendingHolds = {}
    for name, list in pairs(joining) do redis.call('SADD', k[3] .. name, unpack(list)) end
    fields[#fields + 1] = HASHTABLE_FIELD
    fields[#fields + 1] = HASHTABLE_VALUE
    redis.call('HSET', k[2], unpack(fields))
  end
  unwritten = {}
end

-- The definition field of a limit name: `key:<Class> <key>` is defined by `key:<Class>`, the others by themselves.
local function limitField(name)
  if string.sub(name, 1, 4) == 'key:' then
    local space = string.find(name, ' ', 1, true)
    if space then return string.sub(name, 1, space - 1) end
  end
  return name
end
