--[[
  New jobs for this consumer (XREADGROUP ... >, no BLOCK: blocking is refused
  inside scripts, the worker polls). Delivered jobs stay in the group's
  pending list until acknowledged. The queue is first trimmed to its bounds
  (core's includes/queue-bounds), so jobs left from long ago (their sessions
  expired while no worker ran) are dropped, never handed out.

  KEYS[1] the kind's queue (stream)

  ARGV[1] the consumer group
  ARGV[2] this consumer's name
  ARGV[3] at most this many jobs
  ARGV[4] the queue's maxLength
  ARGV[5] the queue's maxAgeMs

  Returns the jobs as a flat { id, session, ... } list (see includes/flatten-entries).
  Errors: NO_GROUP (the stream or the group is gone, e.g. after FLUSHDB; see
  includes/group-call); CORRUPT <KEYS[1]> (the key is not a stream).
]]
--- @include "../../core/lua/includes/check-keys"
--- @include "../../core/lua/includes/now-ms"
--- @include "../../core/lua/includes/queue-bounds"
--- @include "includes/flatten-entries"
--- @include "includes/group-call"

-- The type is checked before the trim, its first write.
local err = check_type(KEYS[1], 'stream')
if err then return err end
if redis.call('EXISTS', KEYS[1]) == 1 then bound_queue(KEYS[1], ARGV[4], ARGV[5], now_ms()) end
local reply, missing = group_call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3], 'STREAMS', KEYS[1], '>')
if missing then return missing end
if not reply then return {} end
return flatten(reply[1][2])
