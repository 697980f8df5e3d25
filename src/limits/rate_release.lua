-- Lets parked jobs of rate limits back once their limit has room (docs/flow-control.md): for each limit filed in the
-- due index at or before `now`, as many of its oldest parked jobs as it has room for go back to the head of their
-- queue (of their tenant's list on a fair queue), in order, and the queues are announced. A limit that still has
-- parked jobs is filed again under the earliest time it can next have room (its oldest start in the window plus the
-- window, or a window from now).
-- KEYS[1]  the due index (Keys.rateParkedDue), also in the spec: declared so that Redis Cluster routes the call to
--          the namespace's slot; every other key comes from the specs, and a limit's keys are only known from the due
--          index
-- ARGV[1]  rate spec (Keys.rateSpec)
-- ARGV[2]  announce spec (Keys.announce)
-- ARGV[3]  limit spec (Keys.limitSpec): the queue-key prefix and `queues`
-- ARGV[4]  now (epoch ms), '' for the Redis clock (`TIME`)
-- ARGV[5]  at most this many limits are looked at by one call
-- Returns  { limits looked at, jobs let back }
-- #include ../redis/lua/announce.lua
-- #include ../redis/lua/limits.lua
-- #include rate.lua
local rspec, aspec, lspec = ARGV[1], ARGV[2], ARGV[3]
local rk, lk = rateSpec(rspec), limitSpec(lspec)
local now = clockMs(ARGV[4])
local due = redis.call('ZRANGEBYSCORE', rk[3], '-inf', now, 'LIMIT', 0, tonumber(ARGV[5]))
local returned = 0
for _, name in ipairs(due) do
  local parkedKey = rk[4] .. name
  local n, w = rateDefinition(redis.call('HGET', rk[1], limitField(name)))
  local at, room = rateRoom(rspec, name, n, w, now)
  if at then
    redis.call('ZADD', rk[3], at, name)
  else
    local count = redis.call('LLEN', parkedKey)
    local take = math.min(room, count)
    if take > 0 then
      local entries = redis.call('LRANGE', parkedKey, 0, take - 1)
      redis.call('LTRIM', parkedKey, take, -1)
      local queues = {}
      for i = #entries, 1, -1 do
        local entry = entries[i]
        local cut = string.find(entry, '\n', 1, true)
        local queue = string.sub(entry, 1, cut - 1)
        returnJob(aspec, lk[5] .. queue, queue, string.sub(entry, cut + 1))
        if not queues[queue] then
          queues[queue] = true
          redis.call('SADD', lk[6], queue)
          announce(aspec, queue)
        end
      end
      returned = returned + take
    end
    if count > take then
      local oldest = rateOldest(rspec, name)
      redis.call('ZADD', rk[3], (oldest or now) + (w or 0), name)
    else
      redis.call('ZREM', rk[3], name)
    end
  end
end
return { #due, returned }
