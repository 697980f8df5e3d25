-- One change of a tracked job's status record (docs/status.md), in one command: the new fields, the fields that no
-- longer hold, the TTL from now, and the change published on the job's channel.
--
-- KEYS[1]    the job's status record (`ts:status:<id>`)
-- ARGV[1]    TTL in ms
-- ARGV[2]    the job's channel (`ts:job-events:<id>`)
-- ARGV[3]    the message to publish (JSON `{"state",…}`)
-- ARGV[4]    n, the number of fields to delete that follow
-- ARGV[5..]  n field names, then field/value pairs to set
-- Returns    1
local clear = tonumber(ARGV[4])
if clear > 0 then redis.call('HDEL', KEYS[1], unpack(ARGV, 5, 4 + clear)) end
if #ARGV > 4 + clear then redis.call('HSET', KEYS[1], unpack(ARGV, 5 + clear)) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
