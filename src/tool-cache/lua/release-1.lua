--[[
  The runner's tool failed: nothing is cached, and the lock is given back.
  For ARGV[2] ms it holds 'failed' instead of a token, so the callers waiting
  on it each run the tool themselves at once (a failure is never shared:
  each gets its own result or its own error) rather than one after another.

  KEYS[1] lock string   changed only while it holds ARGV[1]

  ARGV[1] the runner's token
  ARGV[2] how long 'failed' holds (ms); 0 deletes the lock

  Returns 1, or 0 when the lock was no longer the runner's (it expired and
  another caller took it): nothing changed then.
  Errors: CORRUPT <key> (not a string). Nothing is written then.
]]
--- @include "../../core/lua/includes/check-keys"

local err = check_type(KEYS[1], 'string')
if err then return err end
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[1], 'failed', 'PX', ARGV[2])
else
  redis.call('DEL', KEYS[1])
end
return 1
