--[[
  guard(): the user binding, checked by every operation a caller makes on a
  session. nil when the caller may go on, else the reply to return:
    NO_SESSION     KEYS[1] (the meta hash) does not exist
    USER_MISMATCH  the session is foreign to the caller (ARGV[1]; see foreign)
  Writes: an unbound session is bound (meta field userId) to a '=<userId>'
  caller, and stays bound even if the script then fails a check of its own.
]]
--- @include "foreign"

local function guard()
  if redis.call('EXISTS', KEYS[1]) == 0 then return fail(E.NO_SESSION) end
  local refused, bound = foreign()
  if refused then return fail(E.USER_MISMATCH) end
  if not bound and string.sub(ARGV[1], 1, 1) == '=' then
    redis.call('HSET', KEYS[1], 'userId', string.sub(ARGV[1], 2))
  end
  return nil
end
