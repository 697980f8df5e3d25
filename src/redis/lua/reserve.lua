-- One round trip of a worker's loop: finish the jobs it is done with, then fill its free slots.
-- A reservation moves an item atomically from the head of the first non-empty queue (priority order) into the
-- slot's in-flight key and writes the slot's Ruby-visible `worker:<slot>` status in the same step, so a worker
-- that dies at any moment leaves every job it took either on its queue or in its in-flight keys.
--
-- KEYS[1]  pause-all-workers key
-- ARGV[1]  key prefix ("<namespace>:")
-- ARGV[2]  run_at for new statuses (UTC ISO-8601, as Ruby writes it)
-- ARGV[3]  A = number of finished jobs, then A triples: slot id, token, "1" if it failed else "0"
-- next     S = number of free slots, then S pairs: slot id, fresh 16-character token
-- next     Q = number of queues, then Q pairs: queue name, queue name as a JSON string
-- In-flight value = token .. "\n" .. queue .. "\n" .. raw item (the item's exact bytes, even when not JSON). A finish only applies when the token still matches, so a command resent
-- after a lost reply never counts twice nor clears a newer job; a slot that already holds a job (a reservation
-- whose reply was lost) hands that job back instead of taking another.
-- A slot finished and refilled in the same call is overwritten (SET) rather than deleted and set again; one that
-- is not refilled is deleted at the end. Either way the keys end as if each step had run on its own.
-- Returns  { paused (0/1), then per reserved slot: slot id, token, queue, raw item }
local prefix, runAt = ARGV[1], ARGV[2]
local at = 3
local acks = tonumber(ARGV[at])
local processed = 0
-- Slots whose job this call finished, in order: known empty, their keys still to delete unless refilled.
local finished, finishedOrder = {}, {}
for i = 1, acks do
  local slot, token, failed = ARGV[at + 1], ARGV[at + 2], ARGV[at + 3]
  at = at + 3
  local current = redis.call('GET', prefix .. 'ts:inflight:' .. slot)
  if current and not finished[slot] and string.sub(current, 1, 16) == token then
    finished[slot] = true
    table.insert(finishedOrder, slot)
    redis.call('INCR', prefix .. 'stat:processed:' .. slot)
    if failed == '1' then
      redis.call('INCR', prefix .. 'stat:failed')
      redis.call('INCR', prefix .. 'stat:failed:' .. slot)
    end
    processed = processed + 1
  end
end
if processed > 0 then
  redis.call('INCRBY', prefix .. 'stat:processed', processed)
end

at = at + 1
local slotCount = tonumber(ARGV[at])
local slotsAt = at
at = at + slotCount * 2 + 1
local queueCount = tonumber(ARGV[at])
local queuesAt = at

local paused = 0
local pause = redis.call('GET', KEYS[1])
if pause and string.match(string.lower(pause), '^%s*true%s*$') then
  paused = 1
end

local result = { paused }
local empty = {}
for s = 1, slotCount do
  local slot, token = ARGV[slotsAt + s * 2 - 1], ARGV[slotsAt + s * 2]
  local inflightKey = prefix .. 'ts:inflight:' .. slot
  local held = false
  if not finished[slot] then
    held = redis.call('GET', inflightKey)
  end
  if held then
    local queueEnd = string.find(held, '\n', 18, true)
    table.insert(result, slot)
    table.insert(result, string.sub(held, 1, 16))
    table.insert(result, string.sub(held, 18, queueEnd - 1))
    table.insert(result, string.sub(held, queueEnd + 1))
  elseif paused == 0 then
    for q = 1, queueCount do
      local name = ARGV[queuesAt + q * 2 - 1]
      if not empty[name] then
        local item = redis.call('LPOP', prefix .. 'queue:' .. name)
        if item then
          local shown = item
          if string.sub(item, 1, 1) ~= '{' or string.sub(item, -1) ~= '}' then
            shown = '{"class":"(malformed payload)","args":[]}'
          end
          local status = '{"queue":' .. ARGV[queuesAt + q * 2] .. ',"run_at":"' .. runAt .. '","payload":' .. shown .. '}'
          redis.call('SET', inflightKey, token .. '\n' .. name .. '\n' .. item)
          redis.call('SET', prefix .. 'worker:' .. slot, status)
          finished[slot] = nil
          table.insert(result, slot)
          table.insert(result, token)
          table.insert(result, name)
          table.insert(result, item)
          break
        end
        empty[name] = true
      end
    end
  end
end
for _, slot in ipairs(finishedOrder) do
  if finished[slot] then
    redis.call('DEL', prefix .. 'ts:inflight:' .. slot, prefix .. 'worker:' .. slot)
  end
end
return result
