-- Puts concurrency limits right where no reservation's end could (docs/flow-control.md): reclaims tokens whose
-- reservation is gone (its in-flight key no longer holds that token), and lets parked jobs back while their limit
-- has room: a limit that was raised or removed, a job let back that a Ruby worker took (it holds no token). Run at
-- worker start-up, after the limits change, and by one process of the fleet per poll interval.
-- KEYS     none: every key comes from the limit spec, and the keys of one limit are only known from the parked index
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

-- A holder is stale when its slot's in-flight key no longer starts with the token its hold names.
local function reclaim(name)
  for _, slot in ipairs(redis.call('SMEMBERS', k[3] .. name)) do
    local hold = redis.call('HGET', k[2], slot)
    local live = false
    if hold then
      local token = string.sub(hold, 1, (string.find(hold, '\n', 1, true) or (#hold + 1)) - 1)
      local held = redis.call('GET', k[7] .. slot)
      live = held and string.sub(held, 1, #token + 1) == token .. '\n'
      if not live then
        releaseLimits(lspec, aspec, slot, token, true)
        reclaimed = reclaimed + 1
      end
    end
    if not live then redis.call('SREM', k[3] .. name, slot) end
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
