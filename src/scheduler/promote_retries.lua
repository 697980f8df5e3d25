-- Moves jobs whose retry is due from the retry set to the tail of their queues (a job with a tenant on a fair queue:
-- of its tenant's list), in one step: each leaves the set and reaches its queue together, so a process dying
-- mid-batch loses and duplicates nothing, and two promoters never move the same job. A member no longer in the set (another promoter moved it, it was removed) or not due by `now`
-- is skipped. Also "retry now" from the dashboard and CLI, with `now` the member's own due time.
--
-- KEYS[1]        ts:retry
-- KEYS[2]        queues
-- KEYS[2 + i]    queue:<name> of job i (i = 1…n)
-- ARGV[1]        now (epoch ms)
-- ARGV[2]        announce spec (Keys.announce): the queues reached wake idle workers
-- ARGV, 2 per job i from ARGV[3]: member of the retry set (token .. "\n" .. queue .. "\n" .. item), queue name
-- Returns        jobs moved to their queues
-- #include ../redis/lua/announce.lua
local now = tonumber(ARGV[1])
local moved = 0
local queues = {}

-- #include ../redis/lua/declared_keys.lua
for i = 1, declaredKeys() - 2 do
  local member, queue = ARGV[2 * i + 1], ARGV[2 * i + 2]
  local due = redis.call('ZSCORE', KEYS[1], member)
  local tokenEnd = string.find(member, '\n', 1, true)
  local header = tokenEnd and string.sub(member, tokenEnd + 1, tokenEnd + #queue + 1)
  if due and tonumber(due) <= now and header == queue .. '\n' then
    redis.call('ZREM', KEYS[1], member)
    local item = string.sub(member, tokenEnd + #queue + 2)
    if not pushTenant(ARGV[2], queue, tenantOfItem(item), item) then redis.call('RPUSH', KEYS[2 + i], item) end
    queues[queue] = true
    moved = moved + 1
  end
end
for name in pairs(queues) do
  redis.call('SADD', KEYS[2], name)
  announce(ARGV[2], name)
end
return moved
