-- Shared by every script that puts jobs on a queue (pasted in by `-- #include`): announce(spec, name) says that
-- queue `name` holds jobs. The queue enters the non-empty index, and one wake token waits on the queue's wake list
-- and on the wake list of every registered glob listener (a queue list with globs) that covers it; Redis hands each
-- token to one worker blocked on that list, so a job wakes one idle worker per kind of listener, however many are
-- idle. A list never holds more
-- than one token (a token waiting means nobody is blocked on that list): a woken worker that finds more work than it
-- takes announces the queue again (reserve.lua).
-- A paused queue (ts:paused-queues) enters the index but wakes nobody: no worker would take from it; resuming it
-- announces it again.
-- spec  Keys.announce: non-empty index, glob registry, queue wake-list prefix, glob wake-list prefix, paused queues,
--       fair rotation prefix, fair tenant-list prefix, fair weights prefix, fair turn prefix, fair queues, one per
--       line.
-- A queue holds jobs while its list or its fair rotation (docs/flow-control.md, Fair sharing) is not empty:
-- queueHoldsJobs(spec, queuePrefix, name) is what every script that keeps the index exact asks.
local announceKeys
local announceGlobs

-- A glob's match rule (glob-rule.ts): '1' when a name that starts with '.' cannot match, else '0', then an anchored
-- Lua pattern.
local function matchesRule(name, rule)
  if string.sub(rule, 1, 1) == '1' and string.sub(name, 1, 1) == '.' then return false end
  return string.find(name, string.sub(rule, 2)) ~= nil
end

-- The spec's keys: { index, glob registry, queue wake-list prefix, glob wake-list prefix, paused queues, fair rotation
-- prefix, fair tenant-list prefix, fair weights prefix, fair turn prefix, fair queues }.
local function announceSpec(spec)
  if not announceKeys then
    announceKeys = {}
    for line in string.gmatch(spec, '[^\n]+') do announceKeys[#announceKeys + 1] = line end
  end
  return announceKeys
end

-- A glob listener's rules (QueuePatterns.listenerRules): one per line, '+' for a glob of its list, '-' for a name it
-- must not cover (an exclusion, or a queue it listens to by name). Covered: some '+' matches and no '-' does.
local function coversQueue(rules, name)
  local covered = false
  for line in string.gmatch(rules, '[^\n]+') do
    if matchesRule(name, string.sub(line, 2)) then
      if string.sub(line, 1, 1) == '-' then return false end
      covered = true
    end
  end
  return covered
end

-- One token on a wake list, unless one already waits there (nobody is blocked on it then).
local function offerToken(list, name)
  if redis.call('LLEN', list) == 0 then redis.call('RPUSH', list, name) end
end

-- `indexed`: the caller knows the queue is in the index already (it took from it and left jobs).
local function announce(spec, name, indexed)
  announceSpec(spec)
  if not announceGlobs then announceGlobs = redis.call('HGETALL', announceKeys[2]) end
  if not indexed then redis.call('ZADD', announceKeys[1], 0, name) end
  if redis.call('HEXISTS', announceKeys[5], name) == 1 then return end
  offerToken(announceKeys[3] .. name, name)
  for i = 1, #announceGlobs, 2 do
    if coversQueue(announceGlobs[i + 1], name) then offerToken(announceKeys[4] .. announceGlobs[i], name) end
  end
end

-- True when queue `name` holds jobs: on its list, or in a tenant list of its fair rotation (a rotation holds a tenant
-- exactly while that tenant's list holds jobs). The rotation is read only when the list is empty.
local function queueHoldsJobs(spec, queuePrefix, name)
  if redis.call('LLEN', queuePrefix .. name) > 0 then return true end
  return redis.call('LLEN', announceSpec(spec)[6] .. name) > 0
end

-- Whether queue `name` is fair (ts:fair-queues), read once per call and queue.
local fairQueue = {}
local function isFair(spec, name)
  if fairQueue[name] == nil then fairQueue[name] = redis.call('HEXISTS', announceSpec(spec)[10], name) == 1 end
  return fairQueue[name]
end

-- The `"tenant"` member of an item, or nil. Our payloads end with it (protocol/payload.ts), which a plain match reads
-- without decoding; an item that names it elsewhere (a `"returns"` count was added after it) is decoded.
local function tenantOfItem(item)
  local tenant = string.match(item, ',"tenant":"([^"\\]*)"}$')
  if tenant then return tenant ~= '' and tenant or nil end
  if not string.find(item, '"tenant"', 1, true) then return nil end
  local ok, payload = pcall(cjson.decode, item)
  if ok and type(payload) == 'table' and type(payload['tenant']) == 'string' and payload['tenant'] ~= '' then
    return payload['tenant']
  end
  return nil
end

-- Pushes a job of `tenant` onto its list of fair queue `name`: at the back for a job that arrives, at the head
-- (`head`) for one that comes back, so it keeps its place in its tenant's order. A tenant whose list was empty joins
-- the back of the rotation, as enqueue_tenant.lua does. Returns false, pushing nothing, for a job without a tenant
-- or a queue that is not fair: the caller pushes onto the queue's list then.
local function pushTenant(spec, name, tenant, item, head)
  if not tenant or tenant == '' or not isFair(spec, name) then return false end
  local ks = announceSpec(spec)
  if redis.call(head and 'LPUSH' or 'RPUSH', ks[7] .. name .. ':' .. tenant, item) == 1 then
    redis.call('RPUSH', ks[6] .. name, tenant)
  end
  return true
end

-- A job that comes back to queue `name` (given back, let back from parking): to the head of its tenant's list on a
-- fair queue, else to the head of the queue's list (`queueKey`), so it runs next. The caller announces the queue.
local function returnJob(spec, queueKey, name, item)
  if not pushTenant(spec, name, tenantOfItem(item), item, true) then redis.call('LPUSH', queueKey, item) end
end
