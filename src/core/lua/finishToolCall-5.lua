--[[
  Moves a pending tool call to 'completed' or 'failed'. Only a pending call
  can finish, so a retried completion cannot overwrite the first one.

  KEYS[1] meta hash      lastActive; the user binding
  KEYS[2] turns list     TTL only
  KEYS[3] tools hash     <id>:status, <id>:result or <id>:error, <id>:finishedAt
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

  Returns finishedAt (ms, Redis clock).
  Errors: BACKLOG_FULL (see includes/archive); NO_SESSION, USER_MISMATCH (see
  includes/guard); NO_TOOL_CALL (no
  call with this id); TOOL_CALL_NOT_PENDING <status> (the call already
  finished, with that status).
]]
--- @include "includes/now-ms"
--- @include "includes/guard"
--- @include "includes/refresh"
--- @include "includes/archive"

local err = archive_room(KEYS[5], 1) or guard()
if err then return err end
local id = ARGV[4]
local status = redis.call('HGET', KEYS[3], id .. ':status')
if not status then return fail(E.NO_TOOL_CALL) end
if status ~= 'pending' then return fail(E.TOOL_CALL_NOT_PENDING, status) end
local now = now_ms()
local field = 'result'
if ARGV[5] == 'failed' then field = 'error' end
redis.call('HSET', KEYS[3], id .. ':status', ARGV[5], id .. ':' .. field, ARGV[6], id .. ':finishedAt', now)
redis.call('HSET', KEYS[1], 'lastActive', now)
archive_push(KEYS[5], archive_tool_entry(id))
refresh()
return now
