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
  KEYS[6] idempotency hash  the record of ARGV[6], if given (see includes/idempotency)

  ARGV[1] the caller: '' no user check, '-' anonymous, '=<userId>' that user
          (see includes/guard)
  ARGV[2] TTL in ms every key is reset to ('0' leaves TTLs alone, 'session'
          the session's own idle timeout; see includes/refresh)
  ARGV[3] archive: '' when the store does not archive, else
          '<maxEntries>:<ttlMs>' for the backlog (see includes/archive)
  ARGV[4] window: how many turns the list keeps
  ARGV[5] the turn as a JSON object without seq and ts: '{"role":...}'
  ARGV[6] idempotency key: '' for none; else a repeat of an append with this
          key (and this turn) returns the first one's { seq, ts } and writes
          nothing
  ARGV[7] idempotency records: '<ttlMs>:<maxKeys>' (see includes/idempotency)
  ARGV[8] events: '' for none, 'PUBLISH' or 'SPUBLISH' (Cluster): how the
          change is announced on '<prefix>{<id>}:events' (see includes/events)

  Returns { seq, ts }.
  Errors: CORRUPT <key> (a key of the session holds what agent-session did
  not write: see includes/check-keys, includes/idempotency),
  BACKLOG_FULL (see includes/archive), NO_SESSION, USER_MISMATCH (see
  includes/guard); IDEMPOTENCY_CONFLICT (the key was used for another turn).
  Nothing is written on any error.
]]
--- @include "includes/now-ms"
--- @include "includes/check-session"
--- @include "includes/guard"
--- @include "includes/refresh"
--- @include "includes/archive"
--- @include "includes/idempotency"
--- @include "includes/events"

local err = check_session() or archive_room(KEYS[5], 1) or guard()
if err then return err end

-- Idempotency (ARGV[6]): a repeat returns the first result; checks only, before any write.
local idem_fp = ARGV[6] ~= '' and string.sub(redis.sha1hex(ARGV[5]), 1, 16) or ''
local idem_err, idem_hit = idem_check(KEYS[6], ARGV[6], ARGV[7], idem_fp, now_ms())
if idem_err then return idem_err end
if idem_hit then
  local hit_seq, hit_ts = string.match(idem_hit, '^(%d+):(%d+)$')
  if not hit_seq then return fail(E.CORRUPT, KEYS[6]) end
  return { tonumber(hit_seq), tonumber(hit_ts) }
end
-- End of the checks.

bind()
local now = now_ms()
local ts = math.max(now, tonumber(redis.call('HGET', KEYS[1], 'lastTurnAt') or '0'))
local seq = redis.call('HINCRBY', KEYS[1], 'turnCount', 1)
redis.call('HSET', KEYS[1], 'lastActive', now, 'lastTurnAt', ts)
local turn = '{"seq":' .. seq .. ',"ts":' .. string.format('%d', ts) .. ',' .. string.sub(ARGV[5], 2)
redis.call('RPUSH', KEYS[2], turn)
archive_push(KEYS[5], 't' .. turn)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[4]), -1)
idem_store(KEYS[6], ARGV[6], ARGV[7], idem_fp, now, seq .. ':' .. string.format('%d', ts))
refresh()
publish_event(ARGV[8], 'turn_appended', seq, nil, now)
return { seq, ts }
