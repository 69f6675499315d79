--[[
  New jobs for this consumer (XREADGROUP ... >, no BLOCK: blocking is refused
  inside scripts, the worker polls). Delivered jobs stay in the group's
  pending list until acknowledged.

  KEYS[1] the kind's queue (stream)

  ARGV[1] the consumer group
  ARGV[2] this consumer's name
  ARGV[3] at most this many jobs

  Returns the jobs as a flat { id, session, ... } list (see includes/flatten-entries).
  Errors: NO_GROUP (the stream or the group is gone, e.g. after FLUSHDB; see
  includes/group-call); CORRUPT <KEYS[1]> (the key is not a stream).
]]
--- @include "includes/flatten-entries"
--- @include "includes/group-call"

local reply, missing = group_call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3], 'STREAMS', KEYS[1], '>')
if missing then return missing end
if not reply then return {} end
return flatten(reply[1][2])
