-- Takes or keeps the promoter lease: the one process of the fleet that wakes at every due time. Others only look
-- every few seconds, so a delayed job costs the same whatever the number of workers; if the holder dies, the lease
-- expires and the next process to look takes it.
-- KEYS[1]  ts:delayed:promoter
-- ARGV[1]  the caller's id
-- ARGV[2]  lease time (ms)
-- Returns  1 when the caller holds the lease (renewed), 0 when another process does
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
return 0
