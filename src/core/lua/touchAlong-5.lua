--[[
  touch, plus extending one key outside the session (the cookie session) in
  the same call, so that a request that only keeps its session alive costs
  one command for both. Only where that key is on the same node as the
  session (standalone, Sentinel); on Cluster it is in another slot.
  Another user's session is left untouched rather than refused, so the other
  key is still extended.

  KEYS[1] meta hash      lastActive; the user binding (read, never written)
  KEYS[2] turns list     TTL only
  KEYS[3] tools hash     TTL only
  KEYS[4] observer hash  TTL only
  KEYS[5] the other key (the cookie session): PEXPIRE, never recreated

  ARGV[1] the caller: '' no user check, '-' anonymous, '=<userId>' that user
          (see includes/guard)
  ARGV[2] TTL in ms the session's keys are reset to (see includes/refresh)
  ARGV[3] TTL in ms for KEYS[5]

  Returns { touched, extended }: touched 1, 0 (no such session) or -1
  (another user's session, untouched); extended 1 if KEYS[5] existed, else 0.
  Errors: CORRUPT <key> (a key of the session; see includes/check-keys):
  nothing is written, KEYS[5] is not extended either.
]]
--- @include "includes/touch-session"

local err = check_session()
if err then return err end
local extended = redis.call('PEXPIRE', KEYS[5], ARGV[3])
return { touch_session(), extended }
