--[[
  The backlog of an observer kind's queue, for monitoring: read only.

  KEYS[1] the kind's queue (stream)

  ARGV[1] the consumer group (the kind)

  Returns { length, pending, oldest age in ms or -1 }: the entries in the
  stream (XLEN), those delivered to a worker and not yet acknowledged
  (XPENDING summary; 0 when no worker ever created the group), and the age
  of the oldest entry by the Redis clock (-1 when the stream is empty).
  Errors: CORRUPT <KEYS[1]> (the key is not a stream); an XPENDING error other
  than NOGROUP (an ACL refusal) is raised.
]]
--- @include "includes/check-keys"
--- @include "includes/now-ms"

local err = check_type(KEYS[1], 'stream')
if err then return err end

local length = redis.call('XLEN', KEYS[1])
local pending = 0
if length > 0 or redis.call('EXISTS', KEYS[1]) == 1 then
  -- A missing group (no worker ever ran) means nothing pending; any other
  -- error (an ACL without +xpending) is raised, not reported as 0.
  local summary = redis.pcall('XPENDING', KEYS[1], ARGV[1])
  if type(summary) == 'table' and summary.err then
    if string.sub(summary.err, 1, 8) ~= 'NOGROUP ' then error(summary) end
  else
    pending = tonumber(summary[1]) or 0
  end
end
local oldest = -1
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
if first then
  local created = tonumber(string.match(first[1], '^(%d+)-'))
  oldest = math.max(0, now_ms() - created)
end
return { length, pending, oldest }
