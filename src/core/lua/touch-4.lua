--[[
  Activity without a change: lastActive and the TTL of every key. Nothing is
  created for a missing session, and another user's session is not kept alive.

  KEYS[1] meta hash      lastActive; the user binding (read, never written)
  KEYS[2] turns list     TTL only
  KEYS[3] tools hash     TTL only
  KEYS[4] observer hash  TTL only

  ARGV[1] the caller: '' no user check, '-' anonymous, '=<userId>' that user
          (see includes/guard)
  ARGV[2] TTL in ms every key is reset to (see includes/refresh)

  Returns 1, or 0 when the session does not exist.
  Errors: USER_MISMATCH (the session is another user's; it was left untouched);
  CORRUPT <key> (see includes/check-keys; nothing written).
]]
--- @include "includes/touch-session"

local err = check_session()
if err then return err end
local touched = touch_session()
if touched == -1 then return fail(E.USER_MISMATCH) end
return touched
