--[[
  Creates a session. Fails rather than merging into a session that is
  already there.

  KEYS[1] meta hash      written: the session's metadata
  KEYS[2] turns list     TTL only (PEXPIRE of a missing key does nothing)
  KEYS[3] tools hash     TTL only
  KEYS[4] observer hash  TTL only
  KEYS[5] archive backlog  'm', when archiving (see includes/archive)

  ARGV[1] the caller; not read (the store passes ''): a session is bound to a
          user by a userId pair in ARGV[5..]
  ARGV[2] idle timeout in ms: the TTL of every key, also kept in the session
          as idleTimeoutMs for background writers that refresh with 'session'
  ARGV[3] archive: '' when the store does not archive, else
          '<maxEntries>:<ttlMs>' for the backlog (see includes/archive)
  ARGV[4] events: '' for none, 'PUBLISH' or 'SPUBLISH' (Cluster): how the
          change is announced on '<prefix>{<id>}:events' (see includes/events)
  ARGV[5..] field/value pairs for the meta hash (userId, agentId, model,
          currentTask, app fields "f:<name>")

  Returns the creation time (ms, Redis clock).
  Errors: SESSION_EXISTS  the session exists; nothing was changed.
          CORRUPT <key>   a leftover key of the session (its meta hash is
                          gone) holds another type (see includes/check-keys);
                          nothing was written.
          BACKLOG_FULL    see includes/archive; nothing was written.
]]
--- @include "includes/now-ms"
--- @include "includes/check-session"
--- @include "includes/refresh"
--- @include "includes/archive"
--- @include "includes/events"

if redis.call('EXISTS', KEYS[1]) == 1 then return fail(E.SESSION_EXISTS) end
local err = check_session() or archive_room(KEYS[5], 1)
if err then return err end
local now = now_ms()
redis.call('HSET', KEYS[1], 'createdAt', now, 'lastActive', now, 'turnCount', 0, 'idleTimeoutMs', ARGV[2], unpack(ARGV, 5))
archive_push(KEYS[5], 'm')
refresh()
publish_event(ARGV[4], 'created', nil, nil, now)
return now
