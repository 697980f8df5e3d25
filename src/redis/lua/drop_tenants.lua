-- Drops the jobs waiting on a fair queue's tenant lists (docs/flow-control.md, Fair sharing), with its rotation and
-- turn (its weights stay, as settings do):
-- run with the removal of the queue's own list (removeQueue, clearQueue), so the queue holds nothing afterwards.
-- UNLINK frees long lists without blocking Redis.
-- KEYS[1]  the queue's rotation (`ts:fair-rotation:<name>`)
-- KEYS[2]  the queue's turn counter (`ts:fair-turn:<name>`)
-- ARGV[1]  the prefix of the queue's tenant lists (`ts:fair:<name>:`)
-- Tenant lists are ARGV[1] .. tenant: which tenants have jobs is only known once the rotation is read.
-- Returns  how many jobs were dropped
local dropped = 0
for _, tenant in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local list = ARGV[1] .. tenant
  dropped = dropped + redis.call('LLEN', list)
  redis.call('UNLINK', list)
end
redis.call('DEL', KEYS[1], KEYS[2])
return dropped
