--[[
  Ends a run: releases the lease if it is still the run's (compare-and-delete)
  and moves the kind's job state on. A lease that already expired unnoticed
  (no holder) is treated as the run's: nobody else is running, so this run's
  bookkeeping is the one that counts.

  KEYS[1] the session's meta hash  existence only
  KEYS[2] the session's lease      deleted if it holds ARGV[2]
  KEYS[3] the session's jobs hash  the kind's job state

  ARGV[1] the observer kind
  ARGV[2] the run's fencing token
  ARGV[3] 'finish' (the run completed) or 'release' (it did not: stop, lost
          lease, Redis failure)
  ARGV[4] how long a "queued" state lasts (ms)

  Returns
    'taken'    another run holds the lease now. It started after this one, so
               it covers every request this run was serving; nothing changed
    'gone'     the session no longer exists; leftover job state removed
    'requeue'  one more run is wanted (a request arrived while this one ran,
               or this one is being released): the state is now "queued" and
               the caller must queue a job (or leave its own pending)
    'done'     nothing more is wanted
  Errors: CORRUPT <key> (the lease or jobs key holds another type): nothing
  is written; the lease expires on its own.
]]
--- @include "../../core/lua/includes/now-ms"
--- @include "../../core/lua/includes/job-state"
--- @include "../../core/lua/includes/check-keys"

local err = check_type(KEYS[2], 'string') or check_type(KEYS[3], 'hash')
if err then return err end
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[2] then return 'taken' end
if holder then redis.call('DEL', KEYS[2]) end
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[3])
  return 'gone'
end
local now = now_ms()
local state = job_state(KEYS[3], ARGV[1], now)
if ARGV[3] == 'release' or state == 'rerun' then
  set_job_state(KEYS[3], ARGV[1], 'queued', now + tonumber(ARGV[4]), now)
  return 'requeue'
end
if state == 'running' then redis.call('HDEL', KEYS[3], ARGV[1]) end
return 'done'
