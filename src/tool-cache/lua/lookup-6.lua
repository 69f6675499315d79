--[[
  Looks a tool call up in the tool's cache (agent-session/tool-cache) and, on
  a miss, either takes the call's single-flight lock or hands back the
  similarity candidates. Every key is in the tool's Cluster slot (the
  '{<tool>}' hash tag, see keys.ts).

  KEYS[1] entries hash   '<partition>|<argsHash>' -> entry (see includes/entry)
  KEYS[2] index zset     the entries by storedAt; type check only here
  KEYS[3] stats hash     the tool's counters: hits, misses, timeSavedMs
  KEYS[4] lock string    this call's single-flight lock: a runner's token, or 'failed'
  KEYS[5] near zset      (mode 'near') the similarity partition's entries by storedAt
  KEYS[6] vectors hash   (mode 'near') field -> the entry's vector (base64, int8)

  ARGV[1] the entry's field '<partition>|<argsHash>'
  ARGV[2] the tool's TTL (ms): an entry stored longer ago is never served
  ARGV[3] what to do on a miss: 'lock' or 'near'
  ARGV[4] 'lock': the caller's token; 'near': the most candidates to return
  ARGV[5] 'lock': how long the lock holds (ms) if its runner dies

  Returns
    { 'hit', storedAt, runMs, result, ageMs }  a live entry; counts hits, and timeSavedMs += runMs
    { 'run' }     a miss and the lock is the caller's: run the tool, then put; counts misses
    { 'wait' }    a miss and another caller holds the lock: ask again later; counts nothing
    { 'failed' }  a miss and the last run failed moments ago (the lock holds
                  'failed'): run the tool without the lock; counts misses
    { 'near', field, vector, ... }  ('near') a miss: the vectors of the
                  partition's newest live entries, newest first, at most
                  ARGV[4]; counts nothing (the caller's next step does)
  Errors: CORRUPT <key> (a key of another type, an entry not in the format of
  includes/entry). Nothing is written then.
]]
--- @include "../../core/lua/includes/now-ms"
--- @include "../../core/lua/includes/check-keys"
--- @include "includes/entry"

local err = check_type(KEYS[1], 'hash') or check_type(KEYS[2], 'zset') or check_integers(KEYS[3], 'hits', 'timeSavedMs', 'misses')
  or check_type(KEYS[4], 'string') or check_type(KEYS[5], 'zset') or check_type(KEYS[6], 'hash')
if err then return err end
local now = now_ms()
local ttl = tonumber(ARGV[2])
local stored_at, run_ms, result = read_entry(KEYS[1], ARGV[1], ttl, now)
if run_ms == 'corrupt' then return stored_at end
-- End of the checks.

if stored_at then
  redis.call('HINCRBY', KEYS[3], 'hits', 1)
  redis.call('HINCRBY', KEYS[3], 'timeSavedMs', run_ms)
  return { 'hit', stored_at, run_ms, result, now - tonumber(stored_at) }
end

if ARGV[3] == 'near' then
  local reply = { 'near' }
  local fields = redis.call('ZRANGE', KEYS[5], '+inf', now - ttl + 1, 'BYSCORE', 'REV', 'LIMIT', 0, tonumber(ARGV[4]))
  if #fields == 0 then return reply end
  local vectors = redis.call('HMGET', KEYS[6], unpack(fields))
  for i = 1, #fields do
    if vectors[i] then
      reply[#reply + 1] = fields[i]
      reply[#reply + 1] = vectors[i]
    end
  end
  return reply
end

local holder = redis.call('GET', KEYS[4])
if holder == 'failed' then
  redis.call('HINCRBY', KEYS[3], 'misses', 1)
  return { 'failed' }
end
if holder then return { 'wait' } end
redis.call('SET', KEYS[4], ARGV[4], 'PX', ARGV[5])
redis.call('HINCRBY', KEYS[3], 'misses', 1)
return { 'run' }
