-- Marks a job cancelled for whoever follows it: its status record, when it has one (`state`, `cancelled_at`,
-- `updated_at`; no record is created for an untracked job), and always a message on its events channel, so a
-- waiter learns of it.
local function cancelledNow(given)
  if given ~= '' then return tonumber(given) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function markCancelled(statusKey, eventsChannel, id, nowMs)
  local at = string.format('%d', nowMs)
  if redis.call('EXISTS', statusKey) == 1 then
    redis.call('HSET', statusKey, 'state', 'cancelled', 'cancelled_at', at, 'updated_at', at)
  end
  redis.call('PUBLISH', eventsChannel,
    '{"state":"cancelled","id":' .. cjson.encode(id) .. ',"cancelled_at":' .. at .. '}')
end
