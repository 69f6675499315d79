--[[
  Sets metadata fields one by one (HSET of only the named fields) and deletes
  others, so concurrent updates of different fields never overwrite each other.

  KEYS[1] meta hash      the fields, lastActive; the user binding
  KEYS[2] turns list     TTL only
  KEYS[3] tools hash     TTL only
  KEYS[4] observer hash  TTL only

  ARGV[1] the caller: '' no user check, '-' anonymous, '=<userId>' that user
          (see includes/guard)
  ARGV[2] TTL in ms every key is reset to (see includes/refresh)
  ARGV[3] n: how many field/value pairs follow
  ARGV[4 .. 3+2n] field/value pairs to set
  ARGV[4+2n ..] fields to delete

  Returns 1.
  Errors: NO_SESSION, USER_MISMATCH (see includes/guard).
]]
--- @include "includes/now-ms"
--- @include "includes/guard"
--- @include "includes/refresh"

local err = guard()
if err then return err end
local pairs_count = tonumber(ARGV[3])
if pairs_count > 0 then redis.call('HSET', KEYS[1], unpack(ARGV, 4, 3 + 2 * pairs_count)) end
if #ARGV > 3 + 2 * pairs_count then redis.call('HDEL', KEYS[1], unpack(ARGV, 4 + 2 * pairs_count)) end
redis.call('HSET', KEYS[1], 'lastActive', now_ms())
refresh()
return 1
