--[[
  group_call(...): redis.call for a consumer-group command on the queue
  (XREADGROUP, XAUTOCLAIM, XCLAIM, XPENDING). When the stream or its group is
  gone (FLUSHDB, a manual DEL), it returns nil and the reply to return:
  NO_GROUP, with Redis's own wording as the detail; the worker recreates the
  group on it. When the queue's key is not a stream (WRONGTYPE), the reply is
  CORRUPT <key> (KEYS[1]). Any other error is raised, as redis.call would.
  A script that trims the queue first (readJobs) may have trimmed it when
  the group call fails; trimming again is harmless.
]]
local function group_call(...)
  local reply = redis.pcall(...)
  if type(reply) == 'table' and reply.err then
    if string.sub(reply.err, 1, 8) == 'NOGROUP ' then return nil, fail(E.NO_GROUP, string.sub(reply.err, 9)) end
    if string.sub(reply.err, 1, 9) == 'WRONGTYPE' then return nil, fail(E.CORRUPT, KEYS[1]) end
    error(reply)
  end
  return reply
end
