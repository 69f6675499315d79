--[[
  Sets metadata fields one by one (HSET of only the named fields) and deletes
  others, so concurrent updates of different fields never overwrite each other.

  KEYS[1] meta hash      the fields, lastActive; the user binding
  KEYS[2] turns list     TTL only
  KEYS[3] tools hash     TTL only
  KEYS[4] observer hash  TTL only
  KEYS[5] archive backlog  'm', when archiving (see includes/archive)

  ARGV[1] the caller: '' no user check, '-' anonymous, '=<userId>' that user
          (see includes/guard)
  ARGV[2] TTL in ms every key is reset to (see includes/refresh)
  ARGV[3] archive: '' when the store does not archive, else
          '<maxEntries>:<ttlMs>' for the backlog (see includes/archive)
  ARGV[4] events: '' for none, 'PUBLISH' or 'SPUBLISH' (Cluster): how the
          change is announced on '<prefix>{<id>}:events' (see includes/events)
  ARGV[5] n: how many field/value pairs follow
  ARGV[6 .. 5+2n] field/value pairs to set
  ARGV[6+2n ..] fields to delete

  Returns 1.
  Errors: CORRUPT <key> (see includes/check-keys), BACKLOG_FULL (see
  includes/archive), NO_SESSION, USER_MISMATCH (see includes/guard); nothing
  is written.
]]
--- @include "includes/now-ms"
--- @include "includes/check-session"
--- @include "includes/guard"
--- @include "includes/refresh"
--- @include "includes/archive"
--- @include "includes/events"

local err = check_session() or archive_room(KEYS[5], 1) or guard()
if err then return err end
bind()
local pairs_count = tonumber(ARGV[5])
if pairs_count > 0 then redis.call('HSET', KEYS[1], unpack(ARGV, 6, 5 + 2 * pairs_count)) end
if #ARGV > 5 + 2 * pairs_count then redis.call('HDEL', KEYS[1], unpack(ARGV, 6 + 2 * pairs_count)) end
redis.call('HSET', KEYS[1], 'lastActive', now_ms())
archive_push(KEYS[5], 'm')
refresh()
publish_event(ARGV[4], 'meta_updated')
return 1
