-- Enqueue one job in one command: what Ruby's push does (SADD queues, RPUSH queue) plus the wake-up PUBLISH that
-- idle resque-ts workers listen for. One EVALSHA costs the client less than a three-command pipeline.
--
-- KEYS[1]  the `queues` set
-- KEYS[2]  the queue's list (`queue:<name>`)
-- ARGV[1]  queue name
-- ARGV[2]  payload (the exact bytes to push)
-- ARGV[3]  wake-up channel (`ts:wake`)
-- Returns  the queue's length after the push
redis.call('SADD', KEYS[1], ARGV[1])
local length = redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[1])
return length
