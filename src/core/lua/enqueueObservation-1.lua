--[[
  Step 2 of requestObservation: one job into the kind's queue, trimmed to
  its bounds (see includes/queue-bounds). A script rather than a bare XADD so
  that the store needs nothing of its client beyond EVALSHA/EVAL.

  KEYS[1] the kind's queue (stream)

  ARGV[1] the session id
  ARGV[2] the queue's maxLength
  ARGV[3] the queue's maxAgeMs

  Returns the job's (stream entry's) id.
  Errors: CORRUPT <KEYS[1]> (the key is not a stream; nothing written).
]]
--- @include "includes/check-keys"
--- @include "includes/now-ms"
--- @include "includes/queue-bounds"

local err = check_type(KEYS[1], 'stream')
if err then return err end
return add_job(KEYS[1], ARGV[1], ARGV[2], ARGV[3], now_ms())
