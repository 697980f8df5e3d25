-- Shared by every script that puts jobs on a queue (pasted in by `-- #include`): announce(spec, name) from wake.lua,
-- which says that queue `name` holds jobs and wakes one idle worker per kind of listener, and the helpers of scripts
-- that move jobs between lists. spec is Keys.announce (wake.lua).
-- A queue holds jobs while its list or its fair rotation (docs/flow-control.md, Fair sharing) is not empty:
-- queueHoldsJobs(spec, queuePrefix, name) is what every script that keeps the index exact asks.
-- #include wake.lua

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
