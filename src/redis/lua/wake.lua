-- Pasted in by `-- #include` (directly by enqueue.lua, through announce.lua by every other script that puts jobs on a
-- queue): announce(spec, name) says that queue `name` holds jobs. The queue enters the non-empty index, and one wake
-- token waits on the queue's wake list and on the wake list of every registered glob listener (a queue list with
-- globs) that covers it; Redis hands each token to one worker blocked on that list, so a job wakes one idle worker per
-- kind of listener, however many are idle. A list never holds more than one token (a token waiting means nobody is
-- blocked on that list): a woken worker that finds more work than it takes announces the queue again (reserve.lua).
-- A paused queue (ts:paused-queues) enters the index but wakes nobody: no worker would take from it; resuming it
-- announces it again.
-- spec  Keys.announce: non-empty index, glob registry, queue wake-list prefix, glob wake-list prefix, paused queues,
--       fair rotation prefix, fair tenant-list prefix, fair weights prefix, fair turn prefix, fair queues, one per
--       line.
-- Only what announcing needs is here: Redis runs a script's whole text on every call, each `local function` a new
-- closure, so the one-job enqueue leaves out the helpers it never calls (they are in announce.lua).
local announceKeys
local announceGlobs

-- A glob's match rule (glob-rule.ts): '1' when a name that starts with '.' cannot match, else '0', then an anchored
-- Lua pattern.
local function matchesRule(name, rule)
  if string.sub(rule, 1, 1) == '1' and string.sub(name, 1, 1) == '.' then return false end
  return string.find(name, string.sub(rule, 2)) ~= nil
end

-- The spec's keys: { index, glob registry, queue wake-list prefix, glob wake-list prefix, paused queues, fair rotation
-- prefix, fair tenant-list prefix, fair weights prefix, fair turn prefix, fair queues }.
local function announceSpec(spec)
  if not announceKeys then
    announceKeys = {}
    for line in string.gmatch(spec, '[^\n]+') do announceKeys[#announceKeys + 1] = line end
  end
  return announceKeys
end

-- A glob listener's rules (QueuePatterns.listenerRules): one per line, '+' for a glob of its list, '-' for a name it
-- must not cover (an exclusion, or a queue it listens to by name). Covered: some '+' matches and no '-' does.
local function coversQueue(rules, name)
  local covered = false
  for line in string.gmatch(rules, '[^\n]+') do
    if matchesRule(name, string.sub(line, 2)) then
      if string.sub(line, 1, 1) == '-' then return false end
      covered = true
    end
  end
  return covered
end

-- One token on a wake list, unless one already waits there (nobody is blocked on it then).
local function offerToken(list, name)
  if redis.call('LLEN', list) == 0 then redis.call('RPUSH', list, name) end
end

-- `indexed`: the caller knows the queue is in the index already (it took from it and left jobs).
local function announce(spec, name, indexed)
  announceSpec(spec)
  if not announceGlobs then announceGlobs = redis.call('HGETALL', announceKeys[2]) end
  if not indexed then redis.call('ZADD', announceKeys[1], 0, name) end
  if redis.call('HEXISTS', announceKeys[5], name) == 1 then return end
  offerToken(announceKeys[3] .. name, name)
  for i = 1, #announceGlobs, 2 do
    if coversQueue(announceGlobs[i + 1], name) then offerToken(announceKeys[4] .. announceGlobs[i], name) end
  end
end

