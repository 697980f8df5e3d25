-- One round trip of a worker's loop: finish the jobs its slots are done with, then fill its free slots.
-- A reservation moves an item atomically from the head of the first non-empty queue (priority order) into the
-- slot's in-flight key and writes the slot's Ruby-visible `worker:<slot>` status in the same step, so a worker
-- that dies at any moment leaves every job it took either on its queue or in its in-flight keys.
--
-- KEYS[1]    pause-all-workers
-- KEYS[2]    stat:processed
-- KEYS[3]    stat:failed
-- KEYS[4..3+2S]  per slot: ts:inflight:<slot>, worker:<slot>
-- KEYS[4+2S..]   per queue in priority order: queue:<name>
-- The per-slot counters (stat:processed:<slot>, stat:failed:<slot>) are not touched here: the worker adds what the
-- reply says was finished, with its next liveness beat (fleet/slot-counters.ts). Naming two more keys per slot in
-- every call cost the in-process worker a tenth of its throughput.
-- ARGV[1]    run_at for new statuses (UTC ISO-8601, as Ruby writes it)
-- ARGV[2]    S = number of slots in this call
-- ARGV[3..2+3S]  per slot, 3 values: token of the job it finished ('' if none), '1' if that job failed else '0',
--                fresh token to refill it with ('' to leave it empty)
-- ARGV[3+3S..]   per queue, 2 values: queue name, queue name as a JSON string
-- In-flight value (worker/fetch/inflight.ts): token .. "\n" .. queue .. "\n" .. item bytes. This script writes it
-- and compares tokens by prefix; it never parses it.
-- A finish applies only when the slot still holds that token, so a call resent after a lost reply never counts twice
-- nor clears a newer job. A slot to refill that still holds a job (a reservation whose reply was lost) hands that job
-- back instead of taking another. A slot finished and refilled in the same call is overwritten (SET), one that is not
-- refilled is deleted at the end: either way the keys end as if each step had run on its own.
-- Returns  { paused (0/1), U = number of finishes that did not apply (the slot no longer held that token: a resent
--          call, or a reaper gave the job back while this worker seemed dead), then U slot positions, then per slot
--          that holds a job now: its position in the call (1-based), in-flight value }
local slotCount = tonumber(ARGV[2])
local queuesAt = 3 + 3 * slotCount
local queueCount = (#ARGV - queuesAt + 1) / 2

local paused = 0
local pause = redis.call('GET', KEYS[1])
if pause and string.match(string.lower(pause), '^%s*true%s*$') then
  paused = 1
end

local queueKeysAt = 4 + 2 * slotCount

local processed, failed = 0, 0
local result = { paused }
local unmatched = {}
local empty = {}
local toDelete = {}
for s = 1, slotCount do
  local inflightKey, statusKey = KEYS[2 + 2 * s], KEYS[3 + 2 * s]
  local finishToken, fresh = ARGV[3 * s], ARGV[3 * s + 2]
  local held = redis.call('GET', inflightKey)
  local finished = finishToken ~= '' and held and string.sub(held, 1, #finishToken + 1) == finishToken .. '\n'
  if finishToken ~= '' and not finished then
    table.insert(unmatched, s)
  end
  if finished then
    held = false
    processed = processed + 1
    if ARGV[3 * s + 1] == '1' then
      failed = failed + 1
    end
  end
  if fresh ~= '' then
    if held then
      table.insert(result, s)
      table.insert(result, held)
    else
      local taken = false
      if paused == 0 then
        for q = 1, queueCount do
          local name = ARGV[queuesAt + 2 * q - 2]
          if not empty[name] then
            local item = redis.call('LPOP', KEYS[queueKeysAt + q - 1])
            if item then
              local shown = item
              if string.sub(item, 1, 1) ~= '{' or string.sub(item, -1) ~= '}' then
                shown = '{"class":"(malformed payload)","args":[]}'
              end
              local value = fresh .. '\n' .. name .. '\n' .. item
              redis.call('SET', inflightKey, value)
              redis.call('SET', statusKey,
                '{"queue":' .. ARGV[queuesAt + 2 * q - 1] .. ',"run_at":"' .. ARGV[1] .. '","payload":' .. shown .. '}')
              table.insert(result, s)
              table.insert(result, value)
              taken = true
              break
            end
            empty[name] = true
          end
        end
      end
      if finished and not taken then
        table.insert(toDelete, s)
      end
    end
  elseif finished then
    table.insert(toDelete, s)
  end
end
if processed > 0 then
  redis.call('INCRBY', KEYS[2], processed)
end
if failed > 0 then
  redis.call('INCRBY', KEYS[3], failed)
end
for _, s in ipairs(toDelete) do
  redis.call('DEL', KEYS[2 + 2 * s], KEYS[3 + 2 * s])
end
table.insert(result, 2, #unmatched)
for i, s in ipairs(unmatched) do
  table.insert(result, 2 + i, s)
end
return result
