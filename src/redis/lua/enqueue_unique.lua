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
local held = redis.call('LLEN', KEYS[2]) > 0 or redis.call('LLEN', KEYS[4]) > 0
local reply, plain = {}, {}
local pushed = false
local fair, tenantPrefix
for i = 1, #KEYS - 4 do
  local a = 3 + (i - 1) * 4
  local id, tenant, payload = ARGV[a], ARGV[a + 2], ARGV[a + 3]
  if redis.call('SET', KEYS[4 + i], id, 'NX', 'PX', ARGV[a + 1]) then
    reply[i] = ''
    pushed = true
    if tenant ~= '' and fair == nil then
      fair = redis.call('HEXISTS', KEYS[3], name) == 1
      tenantPrefix = announceSpec(ARGV[2])[7] .. name .. ':'
    end
    if tenant ~= '' and fair then
      if redis.call('RPUSH', tenantPrefix .. tenant, payload) == 1 then redis.call('RPUSH', KEYS[4], tenant) end
    else
      plain[#plain + 1] = payload
    end
  else
    reply[i] = redis.call('GET', KEYS[4 + i]) or ''
  end
end
if #plain > 0 then redis.call('RPUSH', KEYS[2], unpack(plain)) end
if pushed then
  redis.call('SADD', KEYS[1], name)
  if not held then announce(ARGV[2], name) end
end
return reply
