-- Retries failures at known positions, each only if the record there is still the one expected (compare-and-set),
-- as Ruby's Failure.requeue does: the record gets `retried_at` and stays in its list (or, with a tombstone, is
-- removed), and the clean {"class","args"} is pushed to the record's queue, which is added to the queues set.
-- KEYS[1]    the failure list
-- KEYS[2]    the queues set
-- KEYS[2+n]  the queue list the n-th failure goes back to
-- ARGV[1]    announce spec (Keys.announce) for the queues reached ('' for none)
-- ARGV[2]    '' keeps retried records (Ruby's behaviour); otherwise a tombstone no record can equal, and retried
--            records are removed
-- ARGV[3..]  5 values per failure: index, expected record bytes, record bytes with retried_at, job bytes, queue name
-- Returns    { number retried, { n of each failure that was not where expected } }
-- #include announce.lua
local list = KEYS[1]
local channel = ARGV[1]
local tombstone = ARGV[2]
local retried, missed, queues = 0, {}, {}
local n = 0
for i = 3, #ARGV, 5 do
  n = n + 1
  local index = tonumber(ARGV[i])
  if redis.call('LINDEX', list, index) == ARGV[i + 1] then
    if tombstone == '' then
      redis.call('LSET', list, index, ARGV[i + 2])
    else
      redis.call('LSET', list, index, tombstone)
    end
    redis.call('SADD', KEYS[2], ARGV[i + 4])
    redis.call('RPUSH', KEYS[2 + n], ARGV[i + 3])
    queues[ARGV[i + 4]] = true
    retried = retried + 1
  else
    missed[#missed + 1] = n
  end
end
if tombstone ~= '' and retried > 0 then
  redis.call('LREM', list, retried, tombstone)
end
if channel ~= '' then
  for queue in pairs(queues) do
    announce(channel, queue)
  end
end
return { retried, missed }
