--[[
  Undoes step 1 of requestObservation when step 2 failed, so that later
  requests are not coalesced into a job that does not exist. Only a "queued"
  state is removed: if a run started meanwhile, its state stays.

  KEYS[1] the session's jobs hash

  ARGV[1] the observer kind

  Returns 1, or 0 when KEYS[1] is not a hash (nothing to undo, nothing written).
]]
--- @include "includes/now-ms"
--- @include "includes/job-state"

if redis.call('TYPE', KEYS[1])['ok'] ~= 'hash' then return 0 end
if job_state(KEYS[1], ARGV[1], now_ms()) == 'queued' then redis.call('HDEL', KEYS[1], ARGV[1]) end
return 1
