--[[
  Undoes a touch of loadAlong-5 that the request turned out not to be
  entitled to (its user, known only at the end of the request, is not the
  one the agent session is bound to): lastActive and the TTLs go back to
  what they were, unless another call touched the session since (lastActive
  is no longer the token that touch wrote), which then stands.

  KEYS[1] meta hash      lastActive
  KEYS[2] turns list     TTL only
  KEYS[3] tools hash     TTL only
  KEYS[4] observer hash  TTL only

  ARGV[1] the token: the lastActive loadAlong-5 wrote (ms, Redis clock)
  ARGV[2] the lastActive before it, '' when there was none
  ARGV[3] when the keys would have expired before (ms, Redis clock); '0'
          leaves the TTLs alone

  Returns 1 undone, 0 left alone (touched since, or gone).
  Errors: CORRUPT <key> (see includes/check-session; nothing written).
]]
--- @include "includes/now-ms"
--- @include "includes/check-session"

local err = check_session()
if err then return err end
if redis.call('HGET', KEYS[1], 'lastActive') ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[1], 'lastActive')
else
  redis.call('HSET', KEYS[1], 'lastActive', ARGV[2])
end
local deadline = tonumber(ARGV[3])
if deadline > 0 then
  local left = deadline - now_ms()
  if left < 1 then left = 1 end
  for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], left) end
end
return 1
