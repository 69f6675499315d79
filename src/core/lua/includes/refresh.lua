--[[
  refresh(): resets the TTL of the session's four state keys, KEYS[1..4]
  (meta, turns, tools, observer), as ARGV[2] says:
    '<ms>'     to that many ms; '0' leaves every TTL alone
    'session'  to the idle timeout stored in the session (meta field
               idleTimeoutMs), for background writers such as the observer
               that do not know the app's
  PEXPIRE never creates a key. The lease and the job state have lifetimes of
  their own and are not refreshed.
]]
local function refresh()
  local ttl = ARGV[2]
  if ttl == 'session' then ttl = redis.call('HGET', KEYS[1], 'idleTimeoutMs') or '0' end
  ttl = tonumber(ttl)
  if ttl > 0 then
    for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], ttl) end
  end
end
