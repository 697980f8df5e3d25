-- Moves the head of one second's list (`delayed:<second>`) to the queues: the bulk of promotion once a second has
-- wholly come, and "queue now". One step instead of resque-scheduler's WATCH/MULTI: the items read beforehand must
-- still be the list's head, and each resque-ts copy must still be the next of its item in `ts:delayed:by-item`, else
-- nothing is done and -1 says to read again. A resque-ts copy leaves the millisecond index and its record with it
-- and is pushed with its own payload; an item written by Ruby is pushed as Ruby's master pushes it. An item's
-- `timestamps:` entry goes when no copy of ours is left (Ruby's master drops it whenever a copy leaves). Items that
-- cannot be enqueued (no queue, not JSON) are set aside with the reason, never dropped.
--
-- KEYS[1]          delayed_queue_schedule
-- KEYS[2]          delayed:<second>
-- KEYS[3]          queues
-- KEYS[4]          ts:delayed:unpromotable
-- KEYS[5]          ts:delayed:due
-- KEYS[6]          ts:delayed:records
-- KEYS[7]          ts:delayed:by-item
-- KEYS[2i + 6]     timestamps:<item> of item i (i = 1…n)
-- KEYS[2i + 7]     queue:<name> of item i (for an item set aside: ts:delayed:unpromotable again)
-- ARGV[1]          the second
-- ARGV[2]          `delayed:<second>` (the timestamps set member)
-- ARGV[3]          announce spec (Keys.announce): the queues reached wake idle workers
-- ARGV, 6 per item i from ARGV[4]: item, queue name ('' to set it aside), payload (or the set-aside record),
--                  by-item field, index member of the resque-ts copy ('' for an item without one), tenant ('' for
--                  none: on a fair queue a job with one goes to its tenant's list, announce.lua)
-- Returns          items moved (set-aside ones included), or -1 when the list or an item's copies changed
-- #include ../redis/lua/announce.lua
-- #include ../redis/lua/declared_keys.lua
local items = (declaredKeys() - 7) / 2
local arg = function(i, k) return ARGV[3 + (i - 1) * 6 + k] end

-- Check everything before writing anything: the head, and each field's copies in the order they are consumed.
local copies, taken = {}, {}
if items > 0 then
  local head = redis.call('LRANGE', KEYS[2], 0, items - 1)
  if #head ~= items then return -1 end
  local fields = {}
  for i = 1, items do
    if head[i] ~= arg(i, 1) then return -1 end
    local field = arg(i, 4)
    if taken[field] == nil then
      taken[field] = 0
      fields[#fields + 1] = field
    end
  end
  local lists = redis.call('HMGET', KEYS[7], unpack(fields))
  for f, field in ipairs(fields) do
    local list = lists[f]
    copies[field] = {}
    -- Most items have one copy: a plain find is much cheaper than gmatch.
    if list and not string.find(list, ' ', 1, true) then
      copies[field][1] = list
    elseif list then
      for token in string.gmatch(list, '%S+') do copies[field][#copies[field] + 1] = token end
    end
  end
  for i = 1, items do
    local field, member = arg(i, 4), arg(i, 5)
    if member ~= '' then
      taken[field] = taken[field] + 1
      if copies[field][taken[field]] ~= member then return -1 end
    end
  end
  redis.call('LTRIM', KEYS[2], items, -1)
end

-- Writes grouped per command: one ZREM, one HDEL, one RPUSH per queue (jobs for tenant lists one by one), one SREM
-- per item.
local members, pushes, queueKeys, aside, unlisted, reached = {}, {}, {}, {}, {}, {}
for i = 1, items do
  local name, payload, field, member = arg(i, 2), arg(i, 3), arg(i, 4), arg(i, 5)
  if member ~= '' then members[#members + 1] = member end
  if name == '' then
    aside[#aside + 1] = payload
  elseif pushTenant(ARGV[3], name, arg(i, 6), payload) then
    reached[name] = true
  else
    reached[name] = true
    if pushes[name] == nil then
      pushes[name] = {}
      queueKeys[name] = KEYS[2 * i + 7]
    end
    pushes[name][#pushes[name] + 1] = payload
  end
  if unlisted[field] == nil and #copies[field] - taken[field] == 0 then
    unlisted[field] = true
    redis.call('SREM', KEYS[2 * i + 6], ARGV[2])
  end
end
if #members > 0 then
  redis.call('ZREM', KEYS[5], unpack(members))
  redis.call('HDEL', KEYS[6], unpack(members))
end
if #aside > 0 then redis.call('RPUSH', KEYS[4], unpack(aside)) end
for name, payloads in pairs(pushes) do
  redis.call('RPUSH', queueKeys[name], unpack(payloads))
end
local emptied = {}
for field, count in pairs(taken) do
  if count > 0 then
    if count == #copies[field] then
      emptied[#emptied + 1] = field
    else
      redis.call('HSET', KEYS[7], field, table.concat({ unpack(copies[field], count + 1) }, ' '))
    end
  end
end
if #emptied > 0 then redis.call('HDEL', KEYS[7], unpack(emptied)) end
if redis.call('LLEN', KEYS[2]) == 0 then redis.call('ZREM', KEYS[1], ARGV[1]) end
for name in pairs(reached) do
  redis.call('SADD', KEYS[3], name)
  announce(ARGV[3], name)
end
return items
