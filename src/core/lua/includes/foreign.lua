--[[
  foreign(): whether the session is bound to someone other than the caller;
  second result: whether it is bound at all. Reads, never writes.

  Reads KEYS[1] (the meta hash, field userId) and ARGV[1], the caller:
    ''           no user check (trusted code, such as the observer): never foreign
    '-'          an anonymous caller: foreign to a session bound to a user
    '=<userId>'  that user: foreign to a session bound to another user
]]
local function foreign()
  local owner = ARGV[1]
  if owner == '' then return false, true end
  local bound = redis.call('HGET', KEYS[1], 'userId')
  if not bound then return false, false end
  return owner == '-' or bound ~= string.sub(owner, 2), true
end
