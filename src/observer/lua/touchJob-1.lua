--[[
  Keeps a job this consumer is working on from looking abandoned: resets its
  idle time (XCLAIM to ourselves, JUSTID, which does not count as a delivery).

  KEYS[1] the kind's queue (stream)

  ARGV[1] the consumer group
  ARGV[2] this consumer's name
  ARGV[3] the job's id

  Returns 1 if the job was still pending (its idle time reset), else 0.
  Errors: NO_GROUP (the stream or the group is gone; see includes/group-call).
  CORRUPT <KEYS[1]> (the key is not a stream; see includes/group-call).
]]
--- @include "includes/group-call"

local claimed, missing = group_call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
if missing then return missing end
return #claimed
