--[[
  Records a new pending tool call. Each attribute is its own hash field
  ("<id>:status", ...), so updating one call never rewrites another.

  KEYS[1] meta hash      lastActive; the user binding
  KEYS[2] turns list     TTL only
  KEYS[3] tools hash     <id>:name, <id>:status = 'pending', <id>:args, <id>:startedAt
  KEYS[4] observer hash  TTL only
  KEYS[5] archive backlog  the call, when archiving (see includes/archive)

  ARGV[1] the caller: '' no user check, '-' anonymous, '=<userId>' that user
          (see includes/guard)
  ARGV[2] TTL in ms every key is reset to (see includes/refresh)
  ARGV[3] archive: '' when the store does not archive, else
          '<maxEntries>:<ttlMs>' for the backlog (see includes/archive)
  ARGV[4] the call's id
  ARGV[5] the tool's name
  ARGV[6] the arguments, as JSON

  Returns startedAt (ms, Redis clock).
  Errors: BACKLOG_FULL (see includes/archive); NO_SESSION, USER_MISMATCH (see
  includes/guard); TOOL_CALL_EXISTS (a call with this id was already started).
]]
--- @include "includes/now-ms"
--- @include "includes/guard"
--- @include "includes/refresh"
--- @include "includes/archive"

local err = archive_room(KEYS[5], 1) or guard()
if err then return err end
local id = ARGV[4]
if redis.call('HEXISTS', KEYS[3], id .. ':status') == 1 then return fail(E.TOOL_CALL_EXISTS) end
local now = now_ms()
redis.call('HSET', KEYS[3], id .. ':name', ARGV[5], id .. ':status', 'pending', id .. ':args', ARGV[6], id .. ':startedAt', now)
redis.call('HSET', KEYS[1], 'lastActive', now)
archive_push(KEYS[5], archive_tool_entry(id))
refresh()
return now
