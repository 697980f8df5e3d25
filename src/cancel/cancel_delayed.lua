-- Cancels one of resque-ts's delayed jobs by its member of `ts:delayed:due`, in one step: the job leaves the
-- millisecond index, its record, its `ts:delayed:by-item` entry and one copy of its item in `delayed:<second>`
-- (with the item's `timestamps:` entry when it was the last copy, and the second from the schedule once its list is
-- empty), its tombstone goes, and it is marked cancelled (mark.lua). Nothing is done when the member is gone (it
-- was promoted or removed meanwhile).
--
-- KEYS[1]  delayed_queue_schedule
-- KEYS[2]  ts:delayed:due
-- KEYS[3]  ts:delayed:records
-- KEYS[4]  ts:delayed:by-item
-- KEYS[5]  delayed:<second> of the job
-- KEYS[6]  timestamps:<item>
-- KEYS[7]  ts:cancelled-queued
-- KEYS[8]  ts:status:<id>
-- ARGV[1]  index member; ARGV[2] the second; ARGV[3] `delayed:<second>` (the timestamps member); ARGV[4] the item
-- ARGV[5]  by-item field; ARGV[6] job id; ARGV[7] now (epoch ms, '' for the Redis clock); ARGV[8] ts:job-events:<id>
-- Returns  1 when cancelled, 0 when the member was gone
-- #include mark.lua
local member = ARGV[1]
if not redis.call('ZSCORE', KEYS[2], member) then return 0 end
redis.call('ZREM', KEYS[2], member)
redis.call('HDEL', KEYS[3], member)
local left = {}
for token in string.gmatch(redis.call('HGET', KEYS[4], ARGV[5]) or '', '%S+') do
  if token ~= member then left[#left + 1] = token end
end
if #left == 0 then
  redis.call('HDEL', KEYS[4], ARGV[5])
else
  redis.call('HSET', KEYS[4], ARGV[5], table.concat(left, ' '))
end
if redis.call('LREM', KEYS[5], 1, ARGV[4]) == 1 and #left == 0 then
  redis.call('SREM', KEYS[6], ARGV[3])
end
if redis.call('LLEN', KEYS[5]) == 0 then redis.call('ZREM', KEYS[1], ARGV[2]) end
redis.call('ZREM', KEYS[7], ARGV[6])
markCancelled(KEYS[8], ARGV[8], ARGV[6], cancelledNow(ARGV[7]))
return 1
