-- Enqueue unique jobs (docs/unique-jobs.md) in one command: per job, its lock is taken (SET NX PX, value = the job's
-- id) and the job is pushed only if that worked; a job whose lock is held is not pushed and the id of the job holding
-- the lock is returned for it, so duplicates within one call collapse too. Jobs are pushed as enqueue.lua pushes them,
-- and a job with a tenant onto a fair queue as enqueue_tenant.lua does (to the back of its tenant's list, the tenant
-- joining the rotation when its list was empty). A queue that held no job before is announced (announce.lua).
--
-- KEYS[1]      the `queues` set
-- KEYS[2]      the queue's list (`queue:<name>`)
-- KEYS[3]      ts:fair-queues
-- KEYS[4]      the queue's rotation (`ts:fair-rotation:<name>`)
-- KEYS[4 + i]  the lock of job i (`ts:unique:<key>`)
-- ARGV[1]      queue name
-- ARGV[2]      announce spec (Keys.announce)
-- ARGV, 4 per job i from ARGV[3]: job id, lock TTL (ms), tenant ('' for none), payload (the exact bytes to push)
-- Tenant lists are the spec's tenant prefix .. name .. ':' .. tenant: which ones a call reaches depends on its jobs.
-- Returns      per job: '' when pushed, else the id held by its lock
-- #include announce.lua
local name = ARGV[1]
local reply, plain, tenants = {}, {}, {}
-- #include declared_keys.lua
for i = 1, declaredKeys() - 4 do
  local a = 3 + (i - 1) * 4
  if redis.call('SET', KEYS[4 + i], ARGV[a], 'NX', 'PX', ARGV[a + 1]) then
    reply[i] = ''
    if ARGV[a + 2] == '' then
      plain[#plain + 1] = ARGV[a + 3]
    else
      tenants[#tenants + 1] = i
    end
  else
    reply[i] = redis.call('GET', KEYS[4 + i]) or ''
  end
end
if #plain == 0 and #tenants == 0 then return reply end
redis.call('SADD', KEYS[1], name)
if #tenants == 0 then
  -- As enqueue.lua: a queue whose list was empty is announced.
  if redis.call('RPUSH', KEYS[2], unpack(plain)) == #plain then announce(ARGV[2], name) end
  return reply
end
-- As enqueue_tenant.lua: a queue that held no job on its list nor its tenants' lists is announced.
local held = redis.call('LLEN', KEYS[2]) > 0 or redis.call('LLEN', KEYS[4]) > 0
if redis.call('HEXISTS', KEYS[3], name) == 1 then
  local prefix = announceSpec(ARGV[2])[7] .. name .. ':'
  for _, i in ipairs(tenants) do
    local a = 3 + (i - 1) * 4
    if redis.call('RPUSH', prefix .. ARGV[a + 2], ARGV[a + 3]) == 1 then redis.call('RPUSH', KEYS[4], ARGV[a + 2]) end
  end
else
  for _, i in ipairs(tenants) do plain[#plain + 1] = ARGV[3 + (i - 1) * 4 + 3] end
end
if #plain > 0 then redis.call('RPUSH', KEYS[2], unpack(plain)) end
if not held then announce(ARGV[2], name) end
return reply
