-- A tracked delayed job moved to its queue before its due time ("queue now"): its record says `queued` from now on,
-- unless it no longer says `delayed` (a worker took the job and wrote a later state first).
--
-- KEYS[1]  the job's status record (`ts:status:<id>`)
-- ARGV[1]  TTL in ms
-- ARGV[2]  the job's channel (`ts:job-events:<id>`)
-- ARGV[3]  the message to publish (JSON `{"state":"queued",…}`)
-- ARGV[4]  now (epoch ms): `updated_at`
-- Returns  1 when the record was changed, 0 when it did not say `delayed`
if redis.call('HGET', KEYS[1], 'state') ~= 'delayed' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'queued', 'updated_at', ARGV[4])
redis.call('HDEL', KEYS[1], 'next_at')
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
