--[[
  touch_session(): activity without a change: sets lastActive in KEYS[1] and
  refreshes the TTL of KEYS[1..4] (see refresh; reads ARGV[1] and ARGV[2]
  like the helpers it uses).
  Returns 1; 0 for a missing session (nothing is created); -1 for another
  user's session (see foreign), which is left untouched. The caller runs
  check_session (see check-session) first: it reads the meta hash.
]]
--- @include "now-ms"
--- @include "foreign"
--- @include "refresh"
--- @include "check-session"

local function touch_session()
  if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
  if foreign() then return -1 end
  redis.call('HSET', KEYS[1], 'lastActive', now_ms())
  refresh()
  return 1
end
