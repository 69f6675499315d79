--[[
  Removes the entries the archiver has copied into PostgreSQL: the oldest
  ARGV[2] of the backlog, which are the ones drain returned, since writers
  only ever push at the other end. Only while the lease is still this
  archiver's: if it expired and another archiver took over, that one reads
  the same entries again (PostgreSQL writes are idempotent) and nothing is
  removed twice.

  KEYS[1] archive backlog  trimmed
  KEYS[2] archive lease    compared with ARGV[1]

  ARGV[1] this archiver's token
  ARGV[2] how many entries were archived

  Returns the entries left in the backlog, or -1 when the lease was lost
  (nothing removed).
  Errors: CORRUPT <key> (the backlog or the lease holds another type):
  nothing is removed.
]]
--- @include "../../core/lua/includes/check-keys"

local err = check_type(KEYS[1], 'list') or check_type(KEYS[2], 'string')
if err then return err end
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return -1 end
redis.call('LTRIM', KEYS[1], tonumber(ARGV[2]), -1)
return redis.call('LLEN', KEYS[1])
