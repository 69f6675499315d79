--[[
  The bounds of an observer queue (a stream), applied wherever a job is
  added (the store's enqueueObservation, the worker's rerun) and on every
  worker poll, so the queue stays small with no worker running:

    bound_queue(key, max_length, max_age_ms, now)
      drops the entries older than max_age_ms (their id is their Redis time
      of creation), then the oldest past max_length. Exact trimming, not
      '~': whole stream nodes are freed at once, so it costs little more,
      and no job older than the bound is ever handed out.
    add_job(key, session_id, max_length, max_age_ms, now)
      drops the entries older than max_age_ms, then adds one job with XADD's
      own MAXLEN; returns the job's id. Both steps that Redis can refuse (an
      ACL without +xtrim or +xadd) come before anything is written.

  A trimmed entry that a worker had already received stays in the group's
  pending list until acknowledged or reclaimed (XAUTOCLAIM then drops it).
  `now` comes from the caller (now_ms), so one script uses one instant.
]]
local function trim_by_age(key, max_age_ms, now)
  local min_id = now - tonumber(max_age_ms)
  if min_id > 0 then redis.call('XTRIM', key, 'MINID', string.format('%d', min_id)) end
end

local function bound_queue(key, max_length, max_age_ms, now)
  trim_by_age(key, max_age_ms, now)
  redis.call('XTRIM', key, 'MAXLEN', max_length)
end

local function add_job(key, session_id, max_length, max_age_ms, now)
  trim_by_age(key, max_age_ms, now)
  return redis.call('XADD', key, 'MAXLEN', max_length, '*', 'session', session_id)
end
