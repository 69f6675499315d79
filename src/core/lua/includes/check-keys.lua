--[[
  The checks every script makes before its first write (Lua scripts are not
  rolled back, so a script that fails halfway leaves half a write). Each
  returns nil when the key is usable, else the reply to return: CORRUPT
  <key>, naming the key and never its value.

  check_type(key, kind): the key is missing or of that Redis type ('hash',
    'list', 'string', 'zset', 'stream').
  check_integers(key, field, ...): each named field of the hash `key` is
    missing or a whole number of at most 15 digits (what tonumber, HINCRBY
    and the decoders in TypeScript take). The key's type is checked first.
  check_json(key, value): value (read from key) is nil or decodes as JSON.
  check_session() is in check-session, for the scripts that take a session's keys.
]]
local function check_type(key, kind)
  local found = redis.call('TYPE', key)['ok']
  if found ~= 'none' and found ~= kind then return fail(E.CORRUPT, key) end
  return nil
end

local function check_integers(key, ...)
  local err = check_type(key, 'hash')
  if err or select('#', ...) == 0 then return err end
  local values = redis.call('HMGET', key, ...)
  for i = 1, select('#', ...) do
    local value = values[i]
    if value and not (string.match(value, '^%d+$') and #value <= 15) then return fail(E.CORRUPT, key) end
  end
  return nil
end

local function check_json(key, value)
  if value and not pcall(cjson.decode, value) then return fail(E.CORRUPT, key) end
  return nil
end
