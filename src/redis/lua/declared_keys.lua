-- Pasted by `-- #include` into scripts that count their keys: declaredKeys() is #KEYS less the slot guard that a
-- one-slot cluster connection appends to every script call (Keys.slotGuard, `<ns>:ts:slot-guard`, never written;
-- docs/cluster.md, Moving the slot).
local function declaredKeys()
  local n = #KEYS
  local guard = ':ts:slot-guard'
  if n > 0 and string.sub(KEYS[n], -#guard) == guard then return n - 1 end
  return n
end
