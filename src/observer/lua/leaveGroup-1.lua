--[[
  On stop: removes this consumer from the group, but only when it holds no
  pending job (deleting a consumer drops its pending jobs).

  KEYS[1] the kind's queue (stream)

  ARGV[1] the consumer group
  ARGV[2] this consumer's name

  Returns 1 if removed, 0 if it still holds a pending job.
  Errors: NO_GROUP (the stream or the group is gone; see includes/group-call).
  CORRUPT <KEYS[1]> (the key is not a stream; see includes/group-call).
]]
--- @include "includes/group-call"

local pending, missing = group_call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if missing then return missing end
if #pending > 0 then return 0 end
-- XPENDING just found the group, and nothing runs between the two commands.
redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
return 1
