--[[
  Records one audit of a cache hit: the tool ran again in the background,
  its fresh result was compared with the cached one. Replaces the entry
  when they differ beyond the tool's threshold, unless it changed since it
  was served (another put or audit came first).

  KEYS[1] entries hash   the audited entry (see includes/entry)
  KEYS[2] index zset     the entry's storedAt, when replaced
  KEYS[3] stats hash     audits, auditErrors, auditsSkipped, auditScoreMicros,
                         'le:<bound>' overlap buckets, replacedAfterAudit

  ARGV[1] the entry's field
  ARGV[2] what happened: 'scored', 'error' (the tool failed; counts
          auditErrors only) or 'skipped' (the audit limit was reached; counts
          auditsSkipped only)
  ARGV[3] 'scored': the overlap bucket's field ('le:0.9', ...)
  ARGV[4] 'scored': the overlap score in millionths (0 .. 1000000)
  ARGV[5] 'scored': '' keep the entry; 'if:<storedAt>' replace it with
          ARGV[6..7] if it is still the version stored at that time;
          'counted' the fresh result was stored elsewhere (a similarity hit's
          own arguments): count the replacement only
  ARGV[6] the replacement's run time (ms)
  ARGV[7] the replacement, as JSON

  Returns 1 when the entry was replaced (or 'counted'), else 0.
  Errors: CORRUPT <key>. Nothing is written then.
]]
--- @include "../../core/lua/includes/now-ms"
--- @include "../../core/lua/includes/check-keys"

local err = check_type(KEYS[1], 'hash') or check_type(KEYS[2], 'zset') or check_integers(KEYS[3], 'audits', 'auditErrors', 'auditsSkipped', 'auditScoreMicros', 'replacedAfterAudit', ARGV[3])
if err then return err end
if ARGV[2] == 'error' then
  redis.call('HINCRBY', KEYS[3], 'auditErrors', 1)
  return 0
end
if ARGV[2] == 'skipped' then
  redis.call('HINCRBY', KEYS[3], 'auditsSkipped', 1)
  return 0
end
local replace = 0
if ARGV[5] == 'counted' then
  replace = 1
elseif ARGV[5] ~= '' then
  local expected = string.match(ARGV[5], '^if:(%d+)$')
  local value = redis.call('HGET', KEYS[1], ARGV[1])
  if expected and value and string.sub(value, 1, #expected + 1) == expected .. ':' then
    local now = now_ms()
    redis.call('HSET', KEYS[1], ARGV[1], now .. ':' .. ARGV[6] .. ':' .. ARGV[7])
    redis.call('ZADD', KEYS[2], now, ARGV[1])
    replace = 1
  end
end
redis.call('HINCRBY', KEYS[3], 'audits', 1)
redis.call('HINCRBY', KEYS[3], ARGV[3], 1)
redis.call('HINCRBY', KEYS[3], 'auditScoreMicros', ARGV[4])
if replace == 1 then redis.call('HINCRBY', KEYS[3], 'replacedAfterAudit', 1) end
return replace
