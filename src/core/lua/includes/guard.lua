--[[
  The user binding, checked by every operation a caller makes on a session,
  in two steps so that a script that fails writes nothing:

  guard(): reads only; call it among the checks. nil when the caller may go
  on, else the reply to return:
    NO_SESSION     KEYS[1] (the meta hash) does not exist
    USER_MISMATCH  the session is foreign to the caller (ARGV[1]; see foreign)
  bind(): the write, once every check has passed: an unbound session is
  bound (meta field userId) to a '=<userId>' caller.
  KEYS[1]'s type must have been checked first (see check-keys).
]]
--- @include "foreign"

local function guard()
  if redis.call('EXISTS', KEYS[1]) == 0 then return fail(E.NO_SESSION) end
  if foreign() then return fail(E.USER_MISMATCH) end
  return nil
end

local function bind()
  if string.sub(ARGV[1], 1, 1) == '=' and not redis.call('HGET', KEYS[1], 'userId') then
    redis.call('HSET', KEYS[1], 'userId', string.sub(ARGV[1], 2))
  end
end
