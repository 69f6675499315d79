--[[
  One cached tool result, as a field of the tool's entries hash:

    '<storedAt>:<runMs>:<result JSON>'

  storedAt is the Redis clock (ms) when it was stored, runMs how long the
  tool ran to produce it (measured by the caller). The prefix is read without
  decoding the result, so a hit costs the same for a small and a large one.

  read_entry(key, field, ttl_ms, now): nil when there is no live entry (none,
    or stored more than ttl_ms ago: never served), else storedAt, runMs and
    the result JSON; or the CORRUPT reply (second value 'corrupt') when the
    field is not in this format.
]]
local function read_entry(key, field, ttl_ms, now)
  local value = redis.call('HGET', key, field)
  if not value then return nil end
  local stored_at, run_ms, from = string.match(value, '^(%d+):(%d+):()')
  if not stored_at or #stored_at > 15 or #run_ms > 15 then return fail(E.CORRUPT, key), 'corrupt' end
  if tonumber(stored_at) + ttl_ms <= now then return nil end
  return stored_at, run_ms, string.sub(value, from)
end
