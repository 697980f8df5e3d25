-- Removes list items at known positions, but only where the item is still the one expected there
-- (a concurrent LPOP shifts positions; a shifted item is left alone and counted as missed).
-- KEYS[1]  the list
-- ARGV[1]  a tombstone string no real item can equal
-- ARGV[2..] pairs: zero-based index, expected item bytes
-- Returns  { removed, missed }
local list = KEYS[1]
local tombstone = ARGV[1]
local marked, missed = 0, 0
for i = 2, #ARGV, 2 do
  local index = tonumber(ARGV[i])
  if redis.call('LINDEX', list, index) == ARGV[i + 1] then
    redis.call('LSET', list, index, tombstone)
    marked = marked + 1
  else
    missed = missed + 1
  end
end
if marked > 0 then
  redis.call('LREM', list, marked, tombstone)
end
return { marked, missed }
