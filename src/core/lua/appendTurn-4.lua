--[[
  Appends one turn to the session's history. Redis assigns its seq (the
  session's turnCount) and its timestamp, which never goes backwards (the max
  of the clock and the previous turn's), so the list stays sorted by time for
  the binary search in read. RPUSH + LTRIM of one element is O(1) whatever
  the window.

  KEYS[1] meta hash      turnCount, lastTurnAt, lastActive; the user binding
  KEYS[2] turns list     the turn is pushed, the list trimmed to the window
  KEYS[3] tools hash     TTL only
  KEYS[4] observer hash  TTL only

  ARGV[1] the caller: '' no user check, '-' anonymous, '=<userId>' that user
          (see includes/guard)
  ARGV[2] TTL in ms every key is reset to ('0' leaves TTLs alone, 'session'
          the session's own idle timeout; see includes/refresh)
  ARGV[3] window: how many turns the list keeps
  ARGV[4] the turn as a JSON object without seq and ts: '{"role":...}'

  Returns { seq, ts }.
  Errors: NO_SESSION, USER_MISMATCH (see includes/guard).
]]
--- @include "includes/now-ms"
--- @include "includes/guard"
--- @include "includes/refresh"

local err = guard()
if err then return err end
local now = now_ms()
local ts = math.max(now, tonumber(redis.call('HGET', KEYS[1], 'lastTurnAt') or '0'))
local seq = redis.call('HINCRBY', KEYS[1], 'turnCount', 1)
redis.call('HSET', KEYS[1], 'lastActive', now, 'lastTurnAt', ts)
redis.call('RPUSH', KEYS[2], '{"seq":' .. seq .. ',"ts":' .. string.format('%d', ts) .. ',' .. string.sub(ARGV[4], 2))
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
refresh()
return { seq, ts }
