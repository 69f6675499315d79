--[[
  The run's heartbeat: extends the lease, and the job state's deadline with
  it, only while the lease still holds the run's token (compare-and-set). A
  job state that is gone (the session was deleted) is not recreated.

  KEYS[1] the session's lease      PEXPIRE if it holds ARGV[2]
  KEYS[2] the session's jobs hash  the kind's "running"/"rerun" deadline

  ARGV[1] the observer kind
  ARGV[2] the run's fencing token
  ARGV[3] lease ms

  Returns 1, or 0 when the lease was lost (nothing changed).
  Errors: CORRUPT <key> (the lease or jobs key holds another type): nothing
  is written.
]]
--- @include "../../core/lua/includes/now-ms"
--- @include "../../core/lua/includes/job-state"
--- @include "../../core/lua/includes/check-keys"

local err = check_type(KEYS[1], 'string') or check_type(KEYS[2], 'hash')
if err then return err end
if redis.call('GET', KEYS[1]) ~= ARGV[2] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local now = now_ms()
local state = job_state(KEYS[2], ARGV[1], now)
if state == 'running' or state == 'rerun' then
  set_job_state(KEYS[2], ARGV[1], state, now + tonumber(ARGV[3]), now)
end
return 1
