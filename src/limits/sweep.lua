-- Puts concurrency limits right where no reservation's end could (docs/flow-control.md): reclaims tokens whose
-- reservation is gone (its in-flight key was deleted), and lets parked jobs back while their limit
-- has room: a limit that was raised or removed, a job let back that a Ruby worker took (it holds no token). Run at
-- worker start-up, after the limits change, and by one process of the fleet per poll interval.
-- KEYS[1]  the parked index (Keys.parkedLimits), also in the spec: declared so that Redis Cluster routes the call
--          to the namespace's slot; every other key comes from the limit spec, and the keys of one limit are only
--          known from the parked index
-- ARGV[1]  limit spec (Keys.limitSpec)
-- ARGV[2]  announce spec (Keys.announce)
-- ARGV[3]  at most this many parked jobs are let back by one call
-- Returns  { tokens reclaimed, jobs let back }
-- #include ../redis/lua/announce.lua
-- #include ../redis/lua/limits.lua
local lspec, aspec = ARGV[1], ARGV[2]
local budget = tonumber(ARGV[3])
local k = limitSpec(lspec)
local reclaimed, returned = 0, 0

-- A holder is stale when its slot's in-flight key is gone (deleted by hand: every step that ends a reservation frees
-- its tokens with it) or its hold does not name the limit.
local function names(hold, name)
  for _, held in ipairs(holdNames(hold) or {}) do
    if held == name then return true end
  end
  return false
end

local function reclaim(name)
  for _, slot in ipairs(redis.call('SMEMBERS', k[3] .. name)) do
    local hold = redis.call('HGET', k[2], k[7] .. slot)
    local running = redis.call('EXISTS', k[7] .. slot) == 1
    if not (running and names(hold, name)) then
      if hold and not running then releaseLimits(lspec, aspec, slot, '', true) end
      redis.call('SREM', k[3] .. name, slot)
      reclaimed = reclaimed + 1
    end
  end
end

for _, name in ipairs(redis.call('SMEMBERS', k[8])) do
  if budget <= 0 then break end
  reclaim(name)
  local limit = tonumber(redis.call('HGET', k[1], limitField(name)))
  local room = limit and (limit - redis.call('SCARD', k[3] .. name)) or budget
  while room > 0 and budget > 0 and unparkOne(lspec, aspec, name) do
    room = room - 1
    budget = budget - 1
    returned = returned + 1
  end
  if redis.call('LLEN', k[4] .. name) == 0 then redis.call('SREM', k[8], name) end
end
return { reclaimed, returned }
