-- Announces queues that hold jobs: after a bulk push, or to pass on a wake-up its taker could not use. A queue
-- found empty is left alone (its jobs were taken meanwhile).
-- KEYS[1]     the non-empty queue index (Keys.nonEmptyQueues), also in the spec: declared so that Redis Cluster
--             routes the call to the namespace's slot
-- ARGV[1]     announce spec (Keys.announce)
-- ARGV[2]     the prefix of queue keys (`<ns>:queue:`)
-- ARGV[3..]   queue names
-- Keys are built from the prefixes: which wake lists a name reaches depends on the glob registry.
-- Returns     the number of queues announced
-- #include announce.lua
local announced = 0
for i = 3, #ARGV do
  if queueHoldsJobs(ARGV[1], ARGV[2], ARGV[i]) then
    announce(ARGV[1], ARGV[i])
    announced = announced + 1
  end
end
return announced
