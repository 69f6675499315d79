--[[
  Records the observer's last failure so the primary can see it; existing
  notes are kept. Same lease and existence rules as writeNotes.

  KEYS[1] meta hash      existence; TTL
  KEYS[2] turns list     TTL only
  KEYS[3] tools hash     TTL only
  KEYS[4] observer hash  lastError, lastErrorAt
  KEYS[5] the observer lease (string): compared with ARGV[3]

  ARGV[1] the caller; not read (the store passes '': the observer is trusted)
  ARGV[2] TTL in ms every key is reset to (see includes/refresh)
  ARGV[3] fencing token ('' = unfenced)
  ARGV[4] the error message (cut to length by the caller)
  ARGV[5] events: '' for none, 'PUBLISH' or 'SPUBLISH' (Cluster): how the
          change is announced on '<prefix>{<id>}:events' (see includes/events)

  Returns 1.
  Errors: CORRUPT <key>, LEASE_LOST, NO_SESSION (see includes/fenced);
  nothing is written.
]]
--- @include "includes/now-ms"
--- @include "includes/refresh"
--- @include "includes/fenced"
--- @include "includes/events"

local err = fenced(KEYS[5], ARGV[3])
if err then return err end
redis.call('HSET', KEYS[4], 'lastError', ARGV[4], 'lastErrorAt', now_ms())
refresh()
publish_event(ARGV[5], 'observer_error')
return 1
