-- Reads what promoting the head of one second's list needs, in one call instead of three: the items, which of them
-- are resque-ts copies (their `ts:delayed:by-item` field and, in filing order, their index member) and those copies'
-- records. Read-only; promote_second.lua checks it all again before it writes. Read from a later position (ARGV[3]),
-- it reads the batch after the ones still to be moved, assigning copies as if the items before were gone: right
-- unless an item of this batch also has a copy among those.
--
-- KEYS[1]  delayed:<second>
-- KEYS[2]  ts:delayed:by-item
-- KEYS[3]  ts:delayed:records
-- ARGV[1]  the second
-- ARGV[2]  how many items, at most
-- ARGV[3]  the position of the first item to read (0: the head)
-- Returns  a flat list, 4 entries per item: item, by-item field, index member ('' for none), record ('' for none)
local start = tonumber(ARGV[3])
local head = redis.call('LRANGE', KEYS[1], start, start + tonumber(ARGV[2]) - 1)
if #head == 0 then return {} end
local fields, distinct, copies = {}, {}, {}
for i, item in ipairs(head) do
  local field = ARGV[1] .. ':' .. redis.sha1hex(item)
  fields[i] = field
  if copies[field] == nil then
    copies[field] = {}
    distinct[#distinct + 1] = field
  end
end
local lists = redis.call('HMGET', KEYS[2], unpack(distinct))
for f, field in ipairs(distinct) do
  local list = lists[f]
  -- Most items have one copy: a plain find is much cheaper than gmatch.
  if list and not string.find(list, ' ', 1, true) then
    copies[field][1] = list
  elseif list then
    for token in string.gmatch(list, '%S+') do copies[field][#copies[field] + 1] = token end
  end
end
local members, used, own = {}, {}, {}
for i, field in ipairs(fields) do
  used[field] = (used[field] or 0) + 1
  members[i] = copies[field][used[field]] or ''
  if members[i] ~= '' then own[#own + 1] = members[i] end
end
local records = {}
if #own > 0 then
  local found = redis.call('HMGET', KEYS[3], unpack(own))
  for k, member in ipairs(own) do records[member] = found[k] or '' end
end
local out = {}
for i, item in ipairs(head) do
  out[#out + 1] = item
  out[#out + 1] = fields[i]
  out[#out + 1] = members[i]
  out[#out + 1] = members[i] ~= '' and records[members[i]] or ''
end
return out
