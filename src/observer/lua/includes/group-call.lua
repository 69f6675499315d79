--[[
  group_call(...): redis.call for a consumer-group command on the queue
  (XREADGROUP, XAUTOCLAIM, XCLAIM, XPENDING). When the stream or its group is
  gone (FLUSHDB, a manual DEL), it returns nil and the reply to return:
  NO_GROUP, with Redis's own wording as the detail; the worker recreates the
  group on it. Any other error is raised, as redis.call would.
]]
local function group_call(...)
  local reply = redis.pcall(...)
  if type(reply) == 'table' and reply.err then
    if string.sub(reply.err, 1, 8) == 'NOGROUP ' then return nil, fail(E.NO_GROUP, string.sub(reply.err, 9)) end
    error(reply)
  end
  return reply
end
