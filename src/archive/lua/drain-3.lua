--[[
  Reads the oldest entries of a session's archive backlog for the archiver,
  under a lease: one archiver drains a session at a time, so entries reach
  PostgreSQL in order and no two archivers copy the same ones at once.

  KEYS[1] meta hash        read whole (the archive keeps the metadata as it is now)
  KEYS[2] archive backlog  read: its oldest ARGV[3] entries (nothing removed)
  KEYS[3] archive lease    taken or extended: SET to ARGV[1] for ARGV[2] ms

  ARGV[1] this archiver's token
  ARGV[2] lease time in ms
  ARGV[3] how many entries at most

  Returns { 'busy' } when another archiver holds the lease (nothing read),
  else { 'ok', entries, meta as a flat field/value list }.
  Errors: CORRUPT <key> (the meta, backlog or lease key holds another type;
  see core's includes/check-keys): nothing is written, the lease not taken.
]]
--- @include "../../core/lua/includes/check-keys"

local err = check_type(KEYS[1], 'hash') or check_type(KEYS[2], 'list') or check_type(KEYS[3], 'string')
if err then return err end
local holder = redis.call('GET', KEYS[3])
if holder and holder ~= ARGV[1] then return { 'busy' } end
redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[2])
return { 'ok', redis.call('LRANGE', KEYS[2], 0, tonumber(ARGV[3]) - 1), redis.call('HGETALL', KEYS[1]) }
