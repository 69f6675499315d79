--[[
  Stores a tool's fresh result, keeps the tool's cache within its bounds,
  and gives the single-flight lock back. A runner that lost its lock (it
  ran past lockMs, and the lock expired or another caller took it) does not
  overwrite a live entry: that one was stored after the lock was lost, by a
  run that started later.

  KEYS[1] entries hash   the entry (see includes/entry); expired and evicted ones leave
  KEYS[2] index zset     field -> storedAt; the oldest leave past ARGV[6]
  KEYS[3] vectors hash   field -> vector, for tools with similarity (ARGV[7])
  KEYS[4] near zset      the similarity partition's entries by storedAt, at most ARGV[8]
  KEYS[5] lock string    deleted when it holds ARGV[2]; when it does not, a
                         live entry (ARGV[5]) is kept
  KEYS[6] stats hash     counts runs, runMsTotal

  ARGV[1] the entry's field '<partition>|<argsHash>'
  ARGV[2] the caller's lock token ('' when it ran without the lock: stored
          whatever the lock holds)
  ARGV[3] how long the tool ran (ms)
  ARGV[4] the result, as JSON
  ARGV[5] the tool's TTL (ms): KEYS[1..4] expire this long after their last
          put, and entries older than this leave (at most 100 per put)
  ARGV[6] the most entries the tool keeps (the oldest leave first)
  ARGV[7] the entry's vector ('' for none: no similarity)
  ARGV[8] the most entries a near zset keeps (the newest stay)

  Returns storedAt (ms, Redis clock), or 0 when the runner had lost its lock
  and a live entry was kept (nothing stored; runs and runMsTotal counted).
  Errors: CORRUPT <key> (a key of another type). Nothing is written then.
]]
--- @include "../../core/lua/includes/now-ms"
--- @include "../../core/lua/includes/check-keys"

local err = check_type(KEYS[1], 'hash') or check_type(KEYS[2], 'zset') or check_type(KEYS[3], 'hash')
  or check_type(KEYS[4], 'zset') or check_type(KEYS[5], 'string') or check_integers(KEYS[6], 'runs', 'runMsTotal')
if err then return err end
-- End of the checks.

local now = now_ms()
local field = ARGV[1]
local ttl = tonumber(ARGV[5])
local holds_lock = ARGV[2] ~= '' and redis.call('GET', KEYS[5]) == ARGV[2]
if ARGV[2] ~= '' and not holds_lock then
  local current = redis.call('HGET', KEYS[1], field)
  local stored_at = current and tonumber(string.match(current, '^(%d+):'))
  if stored_at and stored_at + ttl > now then
    redis.call('HINCRBY', KEYS[6], 'runs', 1)
    redis.call('HINCRBY', KEYS[6], 'runMsTotal', ARGV[3])
    return 0
  end
end
redis.call('HSET', KEYS[1], field, now .. ':' .. ARGV[3] .. ':' .. ARGV[4])
redis.call('ZADD', KEYS[2], now, field)
if ARGV[7] ~= '' then
  redis.call('HSET', KEYS[3], field, ARGV[7])
  redis.call('ZADD', KEYS[4], now, field)
  local extra = redis.call('ZCARD', KEYS[4]) - tonumber(ARGV[8])
  if extra > 0 then redis.call('ZPOPMIN', KEYS[4], extra) end
  redis.call('PEXPIRE', KEYS[4], ttl)
end

-- The bounds: entries past the TTL, then the oldest past the cap.
local function drop(fields)
  if #fields == 0 then return end
  redis.call('HDEL', KEYS[1], unpack(fields))
  redis.call('HDEL', KEYS[3], unpack(fields))
  redis.call('ZREM', KEYS[2], unpack(fields))
end
drop(redis.call('ZRANGE', KEYS[2], '-inf', now - ttl, 'BYSCORE', 'LIMIT', 0, 100))
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[6])
if excess > 0 then drop(redis.call('ZRANGE', KEYS[2], 0, excess - 1)) end
-- PEXPIRE leaves a key that is not there (no vectors hash without similarity) alone.
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ttl) end

if holds_lock then redis.call('DEL', KEYS[5]) end
redis.call('HINCRBY', KEYS[6], 'runs', 1)
redis.call('HINCRBY', KEYS[6], 'runMsTotal', ARGV[3])
return now
