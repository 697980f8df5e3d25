-- A held job that said its rate limit is used up (`RateLimited`, docs/flow-control.md): taken out of its slot, if the
-- slot still holds the very reservation the caller read, and parked at the head of that limit's parked list; the
-- limit is held shut for ARGV[4] ms and filed for the promoters, which let its jobs back once it has room. No
-- attempt is used and the job is not counted as processed. Its concurrency tokens are freed as by any end.
-- The limit is the job's most specific rate limit: per key, else its class's, else its queue's; a job without one
-- is parked on its class's name all the same (it comes back after ARGV[4] ms, and only jobs with a defined limit
-- are held by the block).
-- KEYS[1]  ts:inflight:<slot>
-- KEYS[2]  worker:<slot>
-- ARGV[1]  the reservation's header, token .. "\n" .. queue .. "\n" (worker/fetch/inflight.ts)
-- ARGV[2]  the job's item bytes
-- ARGV[3]  queue name
-- ARGV[4]  for how long (ms) the limit is used up
-- ARGV[5]  now (epoch ms), '' for the Redis clock (`TIME`)
-- ARGV[6]  announce spec (Keys.announce)
-- ARGV[7]  limit spec (Keys.limitSpec)
-- ARGV[8]  rate spec (Keys.rateSpec, limits/rate.lua)
-- A unique job keeps an `until-finished` lock and releases a `while-running` one, as on a give-back.
-- Returns  1 when parked, 0 when the slot no longer holds that reservation
-- #include ../../redis/lua/announce.lua
-- #include ../../redis/lua/limits.lua
-- #include ../../limits/rate.lua
-- #include ../../redis/lua/unique.lua
local held = redis.call('GET', KEYS[1])
if not held or string.sub(held, 1, #ARGV[1]) ~= ARGV[1] then
  return 0
end
local aspec, lspec, rspec = ARGV[6], ARGV[7], ARGV[8]
local queue, item = ARGV[3], ARGV[2]
local now = clockMs(ARGV[5])
redis.call('DEL', KEYS[1], KEYS[2])
local token = string.sub(ARGV[1], 1, string.find(ARGV[1], '\n', 1, true) - 1)
releaseLimits(lspec, aspec, slotOf(lspec, KEYS[1]), token)
uniqueEnd(lspec, held, 'back')

local defs = {}
local flat = redis.call('HGETALL', rateSpec(rspec)[1])
for i = 1, #flat, 2 do defs[flat[i]] = flat[i + 1] end
local ok, payload = pcall(cjson.decode, item)
if not ok then payload = nil end
local rates = rateLimitsOf(defs, queue, payload)
local name, w
if #rates > 0 then
  name, w = rates[#rates].name, rates[#rates].w
elseif type(payload) == 'table' and type(payload['class']) == 'string' then
  name = 'class:' .. payload['class']
else
  name = 'queue:' .. queue
end
local untilMs = now + tonumber(ARGV[4])
rateBlock(rspec, name, w, untilMs, now)
rateParkJob(rspec, name, queue, item, untilMs, true)
return 1
