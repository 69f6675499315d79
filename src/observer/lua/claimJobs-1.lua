--[[
  Takes over jobs that another consumer received but has not acknowledged for
  a while (it crashed, or is stuck), continuing a scan of the pending list.

  KEYS[1] the kind's queue (stream)

  ARGV[1] the consumer group
  ARGV[2] this consumer's name
  ARGV[3] how long a job must have been idle to be taken over (ms)
  ARGV[4] scan cursor ('0-0' to start)
  ARGV[5] at most this many jobs

  Returns { next cursor, jobs as a flat { id, session, ... } list }; cursor
  '0-0' means the scan is complete.
  Errors: NO_GROUP (the stream or the group is gone; see includes/group-call).
  CORRUPT <KEYS[1]> (the key is not a stream; see includes/group-call).
]]
--- @include "includes/flatten-entries"
--- @include "includes/group-call"

local reply, missing = group_call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], 'COUNT', ARGV[5])
if missing then return missing end
return { reply[1], flatten(reply[2]) }
