-- Shared by reserve.lua (pasted in by `-- #include`, after limits.lua and rate.lua): which concurrency and rate
-- limits a popped job counts against, and whether they let it start (docs/flow-control.md).
-- A job's limits depend only on its queue and class unless its class has a keyed limit, so they are worked out once
-- per call for each queue and class (a plan), and a job whose plan is known costs one plain search of its payload and
-- a few table reads. Jobs of classes with a keyed limit, and payloads of any other shape, are read by payloadFields.
-- Per call: queue → head → plan, where a payload's head is its text up to the end of its class (`{"class":"Name`:
-- found with a plain search, cheaper than a pattern), and the decision time of rate limits (read once, when needed).
local CLASS_START = '{"class":"'
local plans = {}
local planNow

-- The plan of queue `queue` for payloads starting with `head` given the definitions (either may be nil: none
-- defined): `names` the concurrency limits (with `names.hold`, their hold value), `max` their N, `rates` the rate
-- limits ({ name, n, w }); `exact` false when the payload must be read by payloadFields: the head is not an
-- unescaped class name, or the class has a keyed limit of either kind.
local function planOf(limitDefs, rateDefs, queue, head)
  local byHead = plans[queue]
  if not byHead then
    byHead = {}
    plans[queue] = byHead
  end
  local plan = byHead[head]
  if plan then return plan end
  local class = string.sub(head, #CLASS_START + 1)
  plan = { names = {}, max = {}, rates = {} }
  plan.exact = string.sub(head, 1, #CLASS_START) == CLASS_START and not string.find(class, '["\\]')
    and not (limitDefs and limitDefs['key:' .. class]) and not (rateDefs and rateDefs['key:' .. class])
  if plan.exact then
    if limitDefs then
      for _, name in ipairs({ 'queue:' .. queue, 'class:' .. class }) do
        if limitDefs[name] then
          plan.names[#plan.names + 1] = name
          plan.max[#plan.max + 1] = limitDefs[name]
        end
      end
    end
    if rateDefs then plan.rates = rateLimitsOf(rateDefs, queue, { class = class }) end
  end
  plan.names.hold = table.concat(plan.names, '\n')
  byHead[head] = plan
  return plan
end

-- The concurrency limits a job popped from queue `queue` counts against (added to `names`) and the first that is
-- full, or nil; `payload` is payloadFields' reading.
local function concurrencyOf(lspec, limitDefs, queue, payload, names)
  if limitDefs['queue:' .. queue] then names[#names + 1] = 'queue:' .. queue end
  if type(payload) == 'table' and type(payload['class']) == 'string' then
    local class = payload['class']
    if limitDefs['class:' .. class] then names[#names + 1] = 'class:' .. class end
    local key = payload['concurrency_key']
    if type(key) == 'string' and key ~= '' and limitDefs['key:' .. class] then
      names[#names + 1] = 'key:' .. class .. ' ' .. key
    end
  end
  for _, limit in ipairs(names) do
    if heldCount(lspec, limit) >= limitDefs[limitField(limit)] then return limit end
  end
  return nil
end

-- Whether rate limits `rates` have room for a job reserved with `token`: nil when they have (its start is then
-- recorded in each), or the first without room and when it next has some.
local function rateCheck(rspec, rates, nowArg, token)
  local count = #rates
  if count == 0 then return nil end
  planNow = planNow or clockMs(nowArg)
  if count == 1 then
    -- What rateRoom and rateRecord do for a limit this call has found room in and started jobs under already.
    local name = rates[1].name
    local seen, pending = rateSeen[name], rateStarts[name]
    if seen and pending and seen.now == planNow and seen.room > 0 then
      seen.room = seen.room - 1
      pending.count = pending.count + 1
      return nil
    end
  end
  for i = 1, #rates do
    local rate = rates[i]
    local at = rateRoom(rspec, rate.name, rate.n, rate.w, planNow)
    if at then return rate.name, at end
  end
  for i = 1, #rates do
    local rate = rates[i]
    rateRecord(rspec, rate.name, rate.w, planNow, token)
  end
  return nil
end

-- The limits a job popped from queue `queue` counts against, given the definitions (either may be nil), for a
-- reservation with token `token`: (names, full concurrency limit or nil, rate limit without room or nil, when that
-- one next has room). `names` is the list to hold when the job may start; it may be shared: read it, never change it.
-- `nowArg` is the script's `now` argument ('' for the Redis clock).
local function jobLimits(lspec, rspec, limitDefs, rateDefs, queue, item, nowArg, token)
  local headEnd = string.find(item, '","args":', #CLASS_START + 1, true)
  local plan
  if headEnd then
    local head = string.sub(item, 1, headEnd - 1)
    local byHead = plans[queue]
    plan = byHead and byHead[head] or planOf(limitDefs, rateDefs, queue, head)
  end
  if plan and plan.exact then
    local names, max = plan.names, plan.max
    for i = 1, #names do
      if (heldCounts[names[i]] or heldCount(lspec, names[i])) >= max[i] then return names, names[i] end
    end
    if not plan.rates[1] then return names end
    return names, nil, rateCheck(rspec, plan.rates, nowArg, token)
  end
  local names = {}
  local payload = payloadFields(item)
  if limitDefs then
    local full = concurrencyOf(lspec, limitDefs, queue, payload, names)
    if full then return names, full end
  end
  if rateDefs then return names, nil, rateCheck(rspec, rateLimitsOf(rateDefs, queue, payload), nowArg, token) end
  return names
end
