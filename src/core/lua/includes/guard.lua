--[[
  The user binding, checked by every operation a caller makes on a session.

  Reads KEYS[1] (the meta hash: does it exist, field userId) and ARGV[1], the
  caller:
    ''           no user check (trusted code, such as the observer)
    '-'          an anonymous caller: refused by a session bound to a user
    '=<userId>'  that user: refused by a session bound to another user

  foreign(): true when the session is bound to someone other than the caller;
    second result: whether it is bound at all.
  guard(): nil when the caller may go on, else the error reply to return:
    NOSESSION     KEYS[1] does not exist
    USERMISMATCH  the session is foreign to the caller
    Writes: an unbound session is bound (userId) to a '=<userId>' caller,
    and stays bound even if the script then fails a check of its own.
]]
local function foreign()
  local owner = ARGV[1]
  if owner == '' then return false, true end
  local bound = redis.call('HGET', KEYS[1], 'userId')
  if not bound then return false, false end
  return owner == '-' or bound ~= string.sub(owner, 2), true
end

local function guard()
  if redis.call('EXISTS', KEYS[1]) == 0 then return redis.error_reply('NOSESSION') end
  local refused, bound = foreign()
  if refused then return redis.error_reply('USERMISMATCH') end
  if not bound and string.sub(ARGV[1], 1, 1) == '=' then
    redis.call('HSET', KEYS[1], 'userId', string.sub(ARGV[1], 2))
  end
  return nil
end
