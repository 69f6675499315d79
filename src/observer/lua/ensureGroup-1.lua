--[[
  Creates the kind's consumer group (and the stream) if missing. The group
  starts at id 0, so jobs queued before any worker ever ran are delivered.

  KEYS[1] the kind's queue (stream)

  ARGV[1] the consumer group (named after the kind)

  Returns 1 if created, 0 if it existed.
  Errors: CORRUPT <KEYS[1]> when KEYS[1] is not a stream; any other error of
  XGROUP CREATE, as Redis reports it.
]]

local reply = redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM')
if type(reply) == 'table' and reply.err then
  if string.sub(reply.err, 1, 9) == 'BUSYGROUP' then return 0 end
  if string.sub(reply.err, 1, 9) == 'WRONGTYPE' then return fail(E.CORRUPT, KEYS[1]) end
  return reply
end
return 1
