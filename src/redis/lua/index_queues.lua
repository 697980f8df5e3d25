-- Brings queues' entries in the non-empty index in line with their lists (and fair rotations, announce.lua): a queue that holds jobs but is missing
-- (a client that is not resque-ts pushed to it) is announced, which also wakes a worker for it; one that is empty
-- leaves the index. Run on pages of the `queues` set and of the index by one process per poll interval, and on one
-- queue after jobs are removed from it.
-- KEYS[1]    ts:queues:non-empty
-- ARGV[1]    announce spec (Keys.announce)
-- ARGV[2]    the prefix of queue keys (`<ns>:queue:`)
-- ARGV[3..]  queue names
-- Queue keys are ARGV[2] .. name: the names come from a page of a set read beforehand.
-- Returns    { queues added, queues removed }
-- #include announce.lua
local added, removed = 0, 0
for i = 3, #ARGV do
  local name = ARGV[i]
  local holds = queueHoldsJobs(ARGV[1], ARGV[2], name)
  local indexed = redis.call('ZSCORE', KEYS[1], name)
  if holds and not indexed then
    announce(ARGV[1], name)
    added = added + 1
  elseif not holds and indexed then
    redis.call('ZREM', KEYS[1], name)
    redis.call('DEL', announceSpec(ARGV[1])[3] .. name)
    removed = removed + 1
  end
end
return { added, removed }
