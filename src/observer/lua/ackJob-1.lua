--[[
  Acknowledges a job and deletes its entry, so the stream only ever holds
  jobs not yet done; with a session id, also queues a new job for it in the
  same atomic step (a rerun, or a job handed back on stop), within the
  queue's bounds (core's includes/queue-bounds). If the group or the stream
  was removed meanwhile, XACK and XDEL do nothing and the new job is still
  queued (XADD creates the stream); the worker recreates the group, which
  starts at id 0 and so delivers it.

  KEYS[1] the kind's queue (stream)

  ARGV[1] the consumer group
  ARGV[2] the job's id
  ARGV[3] a session to queue a new job for, or ''
  ARGV[4] the queue's maxLength
  ARGV[5] the queue's maxAgeMs

  Returns the new job's id, or '' when none was queued.
  Errors: CORRUPT <KEYS[1]> (not a stream; nothing written).
]]
--- @include "../../core/lua/includes/check-keys"
--- @include "../../core/lua/includes/now-ms"
--- @include "../../core/lua/includes/queue-bounds"

local err = check_type(KEYS[1], 'stream')
if err then return err end

-- The new job first: its steps are the ones an ACL could refuse, so a refusal writes nothing.
local job = ''
if ARGV[3] ~= '' then job = add_job(KEYS[1], ARGV[3], ARGV[4], ARGV[5], now_ms()) end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return job
