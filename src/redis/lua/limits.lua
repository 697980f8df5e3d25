-- Shared by the scripts that reserve jobs and end reservations (pasted in by `-- #include`, after announce.lua):
-- concurrency limits (docs/flow-control.md). A limit is named `class:<Class>`, `queue:<name>` or
-- `key:<Class> <key>`; its tokens are the slot ids in its holder set, and `ts:limit-holds` says, per slot, which
-- reservation (token) holds which limits, so the step that ends a reservation frees exactly its tokens, once.
-- A job whose limit is full is parked on that limit's list; each freed token moves one parked job back to the head
-- of its queue and announces the queue.
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

-- A slot's id, from its in-flight key.
local function slotOf(lspec, inflightKey)
  local prefix = limitSpec(lspec)[7]
  return string.sub(inflightKey, #prefix + 1)
end

-- Moves the oldest job parked on `name` back to the head of its queue (of its tenant's list on a fair queue) and
-- announces the queue. Returns true if one was there.
local function unparkOne(lspec, aspec, name)
  local k = limitSpec(lspec)
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

-- Frees the tokens the slot's reservation `token` holds, if the slot's hold is still that reservation's: each
-- limit loses the slot from its holders and lets one parked job back (unless `keepParked`: the sweep lets them back
-- by room). Fair between keys: the job a freed key token would let back joins the back of a shared limit's parked
-- list instead, when jobs (of other keys) already wait there for that limit, so a key with many parked jobs does
-- not take every slot of the shared limit its own tokens free, ahead of the keys waiting for it.
local function releaseLimits(lspec, aspec, slot, token, keepParked)
  local k = limitSpec(lspec)
  local hold = redis.call('HGET', k[2], slot)
  if not hold or string.sub(hold, 1, #token + 1) ~= token .. '\n' then return end
  redis.call('HDEL', k[2], slot)
  local shared, keyed = {}, {}
  for name in string.gmatch(string.sub(hold, #token + 2), '[^\n]+') do
    redis.call('SREM', k[3] .. name, slot)
    if string.sub(name, 1, 4) == 'key:' then keyed[#keyed + 1] = name else shared[#shared + 1] = name end
  end
  if keepParked then return end
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

-- Records that the slot's reservation `token` holds the limits `names` (a list): one token of each.
local function holdLimits(lspec, slot, token, names)
  local k = limitSpec(lspec)
  for _, name in ipairs(names) do redis.call('SADD', k[3] .. name, slot) end
  redis.call('HSET', k[2], slot, token .. '\n' .. table.concat(names, '\n'))
end

-- The definition field of a limit name: `key:<Class> <key>` is defined by `key:<Class>`, the others by themselves.
local function limitField(name)
  if string.sub(name, 1, 4) == 'key:' then
    local space = string.find(name, ' ', 1, true)
    if space then return string.sub(name, 1, space - 1) end
  end
  return name
end
