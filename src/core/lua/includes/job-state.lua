--[[
  The observation job state of one session, per observer kind: one field of
  the session's jobs hash, "<kind>" -> "<state>:<deadline ms>". It coalesces
  observation requests:

    (none) --request--> queued        the requester then XADDs one job
    queued --request--> queued        coalesced: the queued job will see this turn
    queued --run starts--> running    (observer: beginRun)
    running --request--> rerun        coalesced: one more run after this one
    rerun  --request--> rerun
    running --run ends--> (none)
    rerun  --run ends--> queued       the worker XADDs the one extra job

  A state reads as absent once its deadline has passed, so a marker whose job
  never made it into the queue (the requester crashed between the two steps)
  or whose run died stops swallowing requests on its own: "queued" lives as
  long as the requester says (OBSERVER_QUEUED_TTL_MS by default, never
  longer than the queue's maxAgeMs: a job trimmed by age must not leave a
  mark that swallows requests; see includes/queue-bounds),
  "running"/"rerun" as long as the run's lease, which the worker extends
  while it runs.

  job_state(key, kind, now): the live state and its deadline, or nil.
  set_job_state(key, kind, state, deadline, now): writes it; the hash lives
    as long as its longest deadline.
  `now` comes from the caller (now_ms), so one script uses one instant.
]]
local function job_state(key, kind, now)
  local value = redis.call('HGET', key, kind)
  if not value then return nil end
  local state, deadline = string.match(value, '^(%a+):(%d+)$')
  if not state or tonumber(deadline) <= now then return nil end
  return state, tonumber(deadline)
end

local function set_job_state(key, kind, state, deadline, now)
  redis.call('HSET', key, kind, state .. ':' .. string.format('%d', deadline))
  local ttl = deadline - now
  if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
end
