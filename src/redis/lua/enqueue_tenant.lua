-- Enqueue jobs that name a tenant, in one command (docs/flow-control.md, Fair sharing). Onto a fair queue (one in
-- ts:fair-queues) each job goes to the back of its tenant's list, and a tenant whose list was empty joins the back of
-- the queue's rotation; onto any other queue the jobs go to its list, as enqueue.lua pushes them. Either way the queue
-- enters Ruby's `queues` set and, when it held no job before, is announced (announce.lua), which wakes one idle
-- worker.
--
-- KEYS[1]    the `queues` set
-- KEYS[2]    the queue's list (`queue:<name>`)
-- KEYS[3]    ts:fair-queues
-- KEYS[4]    the queue's rotation (`ts:fair-rotation:<name>`)
-- ARGV[1]    queue name
-- ARGV[2]    announce spec (Keys.announce)
-- ARGV[3..]  per job, 2 values: tenant, payload (the exact bytes to push)
-- Tenant lists are the spec's tenant prefix .. name .. ':' .. tenant: which ones a call reaches depends on its jobs.
-- Returns    1 when the jobs went to tenant lists (the queue is fair), else 0
-- #include announce.lua
local name = ARGV[1]
local held = redis.call('LLEN', KEYS[2]) > 0 or redis.call('LLEN', KEYS[4]) > 0
redis.call('SADD', KEYS[1], name)
local fair = redis.call('HEXISTS', KEYS[3], name)
if fair == 1 then
  local prefix = announceSpec(ARGV[2])[7] .. name .. ':'
  for i = 3, #ARGV, 2 do
    if redis.call('RPUSH', prefix .. ARGV[i], ARGV[i + 1]) == 1 then redis.call('RPUSH', KEYS[4], ARGV[i]) end
  end
else
  local payloads = {}
  for i = 4, #ARGV, 2 do payloads[#payloads + 1] = ARGV[i] end
  redis.call('RPUSH', KEYS[2], unpack(payloads))
end
if not held then announce(ARGV[2], name) end
return fair
