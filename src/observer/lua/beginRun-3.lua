--[[
  Starts a run on one session: takes the session's lease and marks the kind's
  job state "running" (see core's includes/job-state). Atomic so that a run
  never holds the lease of a session that is gone and the "running" mark
  never exists without a lease holder.

  KEYS[1] the session's meta hash  existence only
  KEYS[2] the session's lease      SET NX PX: the run's fencing token
  KEYS[3] the session's jobs hash  the kind's job state

  ARGV[1] the observer kind
  ARGV[2] the run's fencing token
  ARGV[3] lease ms

  Returns
    'gone'     the session no longer exists; its leftover job state is
               removed and nothing is created
    'busy'     another run holds the lease (one run per session at a time)
    'started'  the lease is ours until it expires or the run ends it
  Errors: CORRUPT <key> (the meta, lease or jobs key holds another type; see
  core's includes/check-keys): nothing is written, the job cannot run.
]]
--- @include "../../core/lua/includes/now-ms"
--- @include "../../core/lua/includes/job-state"
--- @include "../../core/lua/includes/check-keys"

if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[3])
  return 'gone'
end
local err = check_type(KEYS[1], 'hash') or check_type(KEYS[2], 'string') or check_type(KEYS[3], 'hash')
if err then return err end
if not redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then return 'busy' end
local now = now_ms()
set_job_state(KEYS[3], ARGV[1], 'running', now + tonumber(ARGV[3]), now)
return 'started'
