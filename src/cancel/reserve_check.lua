-- Cancelled jobs at reservation (pasted into worker/fetch/reserve.lua; needs clockMs from limits/rate.lua).
-- A cancelled job that may still wait on a queue has a tombstone (`ts:cancelled-queued`, id → cancel time): a popped
-- job whose id has one is dropped instead of taken, its tombstone removed and `ts:stat:cancelled` counted. A call
-- reads one ZCARD when no tombstone exists; only when some do is each popped item's id cut from its bytes, with a
-- plain match on `"id":"…"` (every match is looked up, so an argument that happens to be called "id" cannot hide the
-- job's own); an acknowledged job's tombstone goes too. Tombstones older than a week (ids that never came up) are
-- trimmed once per call while any exist.
local CANCEL_TOMBSTONE_MS = 7 * 24 * 3600 * 1000

-- Whether tombstones exist (one O(1) check per call); trims the stale ones when they do.
local function cancelTombstones(tombstones, nowArg)
  if redis.call('ZCARD', tombstones) == 0 then return false end
  redis.call('ZREMRANGEBYSCORE', tombstones, '-inf', '(' .. (clockMs(nowArg) - CANCEL_TOMBSTONE_MS))
  return true
end

-- A job acknowledged while tombstones exist ran to its end before its cancel reached its worker: its tombstone, if
-- any, goes.
local function forgetTombstone(tombstones, held)
  for id in string.gmatch(held, '"id":"([^"\\]+)"') do redis.call('ZREM', tombstones, id) end
end

-- Drops `item` if its job was cancelled: true when dropped.
local function dropCancelled(tombstones, counter, item)
  for id in string.gmatch(item, '"id":"([^"\\]+)"') do
    if redis.call('ZREM', tombstones, id) == 1 then
      redis.call('INCR', counter)
      return true
    end
  end
  return false
end
