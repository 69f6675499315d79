--[[
  Step 1 of requestObservation: marks the kind's job state (see
  includes/job-state), coalescing into a job that is already queued or
  running. The queue is in another Cluster slot, so the caller adds the job
  (enqueueObservation) when told to.

  KEYS[1] meta hash      existence, the user binding; TTL
  KEYS[2] turns list     TTL only
  KEYS[3] tools hash     TTL only
  KEYS[4] observer hash  TTL only
  KEYS[5] jobs hash      the kind's job state (own TTL, see includes/job-state)

  ARGV[1] the caller: '' no user check, '-' anonymous, '=<userId>' that user
          (see includes/guard)
  ARGV[2] TTL in ms the state keys are reset to (see includes/refresh)
  ARGV[3] the observer kind
  ARGV[4] how long a new "queued" state may wait for its run (ms)
  ARGV[5] events: '' for none, 'PUBLISH' or 'SPUBLISH' (Cluster): how the
          change is announced on '<prefix>{<id>}:events' (see includes/events);
          published only when a new job is to be queued ('enqueue'), not when
          the request coalesced

  Returns 'enqueue' when the caller must now add a job to the queue (the
  state is "queued"), else the state the request coalesced into: 'queued',
  'running' or 'rerun' (a "running" state becomes "rerun").
  Errors: CORRUPT <key> (see includes/check-keys; KEYS[5] not a hash),
  NO_SESSION, USER_MISMATCH (see includes/guard); nothing is written.
]]
--- @include "includes/now-ms"
--- @include "includes/check-session"
--- @include "includes/guard"
--- @include "includes/refresh"
--- @include "includes/job-state"
--- @include "includes/events"

local err = check_session() or check_type(KEYS[5], 'hash') or guard()
if err then return err end
bind()
local now = now_ms()
local state, deadline = job_state(KEYS[5], ARGV[3], now)
refresh()
if not state then
  set_job_state(KEYS[5], ARGV[3], 'queued', now + tonumber(ARGV[4]), now)
  publish_event(ARGV[5], 'observation_queued', nil, nil, now)
  return 'enqueue'
end
if state == 'running' then set_job_state(KEYS[5], ARGV[3], 'rerun', deadline, now) end
return state
