--[[
  Step 2 of requestObservation: one job into the kind's queue. A script
  rather than a bare XADD so that the store needs nothing of its client
  beyond EVALSHA/EVAL.

  KEYS[1] the kind's queue (stream)

  ARGV[1] the session id

  Returns the job's (stream entry's) id.
  Errors: CORRUPT <KEYS[1]> (the key is not a stream; nothing written).
]]
--- @include "includes/check-keys"

local err = check_type(KEYS[1], 'stream')
if err then return err end
return redis.call('XADD', KEYS[1], '*', 'session', ARGV[1])
