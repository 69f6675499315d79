--[[
  Moves a pending tool call to 'completed' or 'failed'. Only a pending call
  can finish, so a retried completion cannot overwrite the first one.

  KEYS[1] meta hash      lastActive; the user binding
  KEYS[2] turns list     TTL only
  KEYS[3] tools hash     <id>:status, <id>:result or <id>:error, <id>:finishedAt, <id>:cached
  KEYS[4] observer hash  TTL only
  KEYS[5] archive backlog  the finished call, when archiving (see includes/archive)

  ARGV[1] the caller: '' no user check, '-' anonymous, '=<userId>' that user
          (see includes/guard)
  ARGV[2] TTL in ms every key is reset to (see includes/refresh)
  ARGV[3] archive: '' when the store does not archive, else
          '<maxEntries>:<ttlMs>' for the backlog (see includes/archive)
  ARGV[4] the call's id
  ARGV[5] the new status: 'completed' | 'failed'
  ARGV[6] 'completed': the result as JSON; 'failed': the error message
  ARGV[7] events: '' for none, 'PUBLISH' or 'SPUBLISH' (Cluster): how the
          change is announced on '<prefix>{<id>}:events' (see includes/events)
  ARGV[8] '1' when a completed call was answered from the tool cache
          (agent-session/tool-cache): '<id>:cached' = '1' marks it; '' otherwise

  Returns finishedAt (ms, Redis clock).
  Errors: CORRUPT <key> (see includes/check-keys; CORRUPT <KEYS[3]> also when
  the call's status, startedAt or arguments are not what startToolCall
  wrote); BACKLOG_FULL (see includes/archive); NO_SESSION, USER_MISMATCH (see
  includes/guard); NO_TOOL_CALL (no call with this id); TOOL_CALL_NOT_PENDING
  <status> (the call already finished, with that status). Nothing is written
  on any error.
]]
--- @include "includes/now-ms"
--- @include "includes/check-session"
--- @include "includes/guard"
--- @include "includes/refresh"
--- @include "includes/archive"
--- @include "includes/events"

local err = check_session() or archive_room(KEYS[5], 1) or guard()
if err then return err end
local id = ARGV[4]
local call = redis.call('HMGET', KEYS[3], id .. ':status', id .. ':args', id .. ':startedAt', id .. ':result')
local status = call[1]
if not status then return fail(E.NO_TOOL_CALL) end
-- The call's stored fields go into the archive entry as they are: they must be what startToolCall wrote.
if (status ~= 'pending' and status ~= 'completed' and status ~= 'failed')
  or not (call[3] and string.match(call[3], '^%d+$') and #call[3] <= 15) then
  return fail(E.CORRUPT, KEYS[3])
end
err = check_json(KEYS[3], call[2] or 'null') or check_json(KEYS[3], call[4])
if err then return err end
if status ~= 'pending' then return fail(E.TOOL_CALL_NOT_PENDING, status) end
-- End of the checks.

bind()
local now = now_ms()
local field = 'result'
if ARGV[5] == 'failed' then field = 'error' end
redis.call('HSET', KEYS[3], id .. ':status', ARGV[5], id .. ':' .. field, ARGV[6], id .. ':finishedAt', now)
if ARGV[8] == '1' and ARGV[5] == 'completed' then redis.call('HSET', KEYS[3], id .. ':cached', '1') end
redis.call('HSET', KEYS[1], 'lastActive', now)
archive_push(KEYS[5], archive_tool_entry(id))
refresh()
publish_event(ARGV[7], ARGV[5] == 'failed' and 'tool_call_failed' or 'tool_call_completed', nil, id, now)
return now
