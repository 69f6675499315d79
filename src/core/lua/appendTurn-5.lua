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
  KEYS[5] archive backlog  the turn, when archiving (see includes/archive)

  ARGV[1] the caller: '' no user check, '-' anonymous, '=<userId>' that user
          (see includes/guard)
  ARGV[2] TTL in ms every key is reset to ('0' leaves TTLs alone, 'session'
          the session's own idle timeout; see includes/refresh)
  ARGV[3] archive: '' when the store does not archive, else
          '<maxEntries>:<ttlMs>' for the backlog (see includes/archive)
  ARGV[4] window: how many turns the list keeps
  ARGV[5] the turn as a JSON object without seq and ts: '{"role":...}'

  Returns { seq, ts }.
  Errors: BACKLOG_FULL (see includes/archive), NO_SESSION, USER_MISMATCH
  (see includes/guard); nothing is written.
]]
--- @include "includes/now-ms"
--- @include "includes/guard"
--- @include "includes/refresh"
--- @include "includes/archive"

local err = archive_room(KEYS[5], 1) or guard()
if err then return err end
local now = now_ms()
local ts = math.max(now, tonumber(redis.call('HGET', KEYS[1], 'lastTurnAt') or '0'))
local seq = redis.call('HINCRBY', KEYS[1], 'turnCount', 1)
redis.call('HSET', KEYS[1], 'lastActive', now, 'lastTurnAt', ts)
local turn = '{"seq":' .. seq .. ',"ts":' .. string.format('%d', ts) .. ',' .. string.sub(ARGV[5], 2)
redis.call('RPUSH', KEYS[2], turn)
archive_push(KEYS[5], 't' .. turn)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[4]), -1)
refresh()
return { seq, ts }
