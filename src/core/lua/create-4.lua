--[[
  Creates a session. Fails rather than merging into a session that is
  already there.

  KEYS[1] meta hash      written: the session's metadata
  KEYS[2] turns list     TTL only (PEXPIRE of a missing key does nothing)
  KEYS[3] tools hash     TTL only
  KEYS[4] observer hash  TTL only

  ARGV[1] the caller; not read (the store passes ''): a session is bound to a
          user by a userId pair in ARGV[3..]
  ARGV[2] idle timeout in ms: the TTL of every key, also kept in the session
          as idleTimeoutMs for background writers that refresh with 'session'
  ARGV[3..] field/value pairs for the meta hash (userId, agentId, model,
          currentTask, app fields "f:<name>")

  Returns the creation time (ms, Redis clock).
  Errors: SESSION_EXISTS  the session exists; nothing was changed.
]]
--- @include "includes/now-ms"
--- @include "includes/refresh"

if redis.call('EXISTS', KEYS[1]) == 1 then return fail(E.SESSION_EXISTS) end
local now = now_ms()
redis.call('HSET', KEYS[1], 'createdAt', now, 'lastActive', now, 'turnCount', 0, 'idleTimeoutMs', ARGV[2], unpack(ARGV, 3))
refresh()
return now
