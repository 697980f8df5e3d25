-- Enqueue one job in one command: what Ruby's push does (SADD queues, RPUSH queue), and, when the queue was empty,
-- the announcement that wakes one idle resque-ts worker (wake.lua). A queue that already held jobs is in the
-- non-empty index and has a wake-up on its way: whoever takes a job and leaves others announces it again
-- (reserve.lua). One EVALSHA costs the client less than a pipeline.
-- The announce spec (Keys.announce) is not an argument: it is the same on every call of a client, so the client
-- defines it ahead of this text (ANNOUNCE_SPEC, client/enqueue-script.ts) and the call carries only the job. Redis
-- runs the whole text on every call: wake.lua is pasted inside the branch that announces, so its functions are made
-- only when a push found the queue empty.
--
-- KEYS[1]  the `queues` set
-- KEYS[2]  the queue's list (`queue:<name>`)
-- ARGV[1]  queue name
-- ARGV[2]  payload (the exact bytes to push)
-- Returns  the queue's length after the push
redis.call('SADD', KEYS[1], ARGV[1])
local length = redis.call('RPUSH', KEYS[2], ARGV[2])
if length == 1 then
-- #include wake.lua
  announce(ANNOUNCE_SPEC, ARGV[1])
end
return length
