--[[
  Moves a pending tool call to 'completed' or 'failed'. Only a pending call
  can finish, so a retried completion cannot overwrite the first one.

  KEYS[1] meta hash      lastActive; the user binding
  KEYS[2] turns list     TTL only
  KEYS[3] tools hash     <id>:status, <id>:result or <id>:error, <id>:finishedAt
  KEYS[4] observer hash  TTL only

  ARGV[1] the caller: '' no user check, '-' anonymous, '=<userId>' that user
          (see includes/guard)
  ARGV[2] TTL in ms every key is reset to (see includes/refresh)
  ARGV[3] the call's id
  ARGV[4] the new status: 'completed' | 'failed'
  ARGV[5] 'completed': the result as JSON; 'failed': the error message

  Returns finishedAt (ms, Redis clock).
  Errors: NO_SESSION, USER_MISMATCH (see includes/guard); NO_TOOL_CALL (no
  call with this id); TOOL_CALL_NOT_PENDING <status> (the call already
  finished, with that status).
]]
--- @include "includes/now-ms"
--- @include "includes/guard"
--- @include "includes/refresh"

local err = guard()
if err then return err end
local id = ARGV[3]
local status = redis.call('HGET', KEYS[3], id .. ':status')
if not status then return fail(E.NO_TOOL_CALL) end
if status ~= 'pending' then return fail(E.TOOL_CALL_NOT_PENDING, status) end
local now = now_ms()
local field = 'result'
if ARGV[4] == 'failed' then field = 'error' end
redis.call('HSET', KEYS[3], id .. ':status', ARGV[4], id .. ':' .. field, ARGV[5], id .. ':finishedAt', now)
redis.call('HSET', KEYS[1], 'lastActive', now)
refresh()
return now
