-- Removes list items at known positions, but only where the item is still the one expected there (a concurrent LPOP
-- shifts positions; a shifted item is left alone and counted as missed). On a queue, a removed job that holds its
-- unique lock (docs/unique-jobs.md) frees it in the same step: it ends for good.
-- KEYS[1]  the list
-- ARGV[1]  a tombstone string no real item can equal
-- ARGV[2]  limit spec (Keys.limitSpec: where unique locks live, redis/lua/unique.lua) for a queue, '' for another list
-- ARGV[3..] pairs: zero-based index, expected item bytes
-- Returns  { removed, missed, the zero-based indexes removed }
-- #include announce.lua
-- #include limits.lua
-- #include unique.lua
local list = KEYS[1]
local tombstone = ARGV[1]
local lspec = ARGV[2]
local marked, missed, removed = 0, 0, {}
for i = 3, #ARGV, 2 do
  local index = tonumber(ARGV[i])
  if redis.call('LINDEX', list, index) == ARGV[i + 1] then
    redis.call('LSET', list, index, tombstone)
    if lspec ~= '' then uniqueRemoved(lspec, ARGV[i + 1]) end
    marked = marked + 1
    removed[marked] = index
  else
    missed = missed + 1
  end
end
if marked > 0 then
  redis.call('LREM', list, marked, tombstone)
end
return { marked, missed, removed }
