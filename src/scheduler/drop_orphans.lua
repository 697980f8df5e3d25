-- Drops resque-ts's records of delayed jobs whose second is gone from delayed_queue_schedule: a Ruby master moved
-- that second, or Ruby removed the item. Such a job already ran or was removed; only its bookkeeping is left. A
-- record whose second is still scheduled is kept (promotion of that second has not reached it).
--
-- KEYS[1]        delayed_queue_schedule
-- KEYS[2]        ts:delayed:due
-- KEYS[3]        ts:delayed:records
-- KEYS[4]        ts:delayed:by-item
-- ARGV, 3 per record i: index member, second, by-item field ('' when the record could not be read)
-- Returns        records dropped
local dropped = 0
for i = 1, #ARGV / 3 do
  local member, second, field = ARGV[3 * i - 2], ARGV[3 * i - 1], ARGV[3 * i]
  if field == '' or not redis.call('ZSCORE', KEYS[1], second) then
    redis.call('ZREM', KEYS[2], member)
    redis.call('HDEL', KEYS[3], member)
    if field ~= '' then
      local left = {}
      for token in string.gmatch(redis.call('HGET', KEYS[4], field) or '', '%S+') do
        if token ~= member then left[#left + 1] = token end
      end
      if #left == 0 then redis.call('HDEL', KEYS[4], field) else redis.call('HSET', KEYS[4], field, table.concat(left, ' ')) end
    end
    dropped = dropped + 1
  end
end
return dropped
