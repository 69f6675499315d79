--[[
  Reads one tool's counters (see keys.ts).

  KEYS[1] stats hash   hits, misses, similarityHits, audits, auditErrors,
                       auditsSkipped, auditScoreMicros, 'le:<bound>' buckets,
                       replacedAfterAudit, timeSavedMs, runs, runMsTotal

  Returns the hash as field, value, ... (empty before the tool's first call).
  Errors: CORRUPT <key> (not a hash, or a counter that is not a whole number).
]]
--- @include "../../core/lua/includes/check-keys"

local err = check_type(KEYS[1], 'hash')
if err then return err end
local fields = redis.call('HGETALL', KEYS[1])
for i = 2, #fields, 2 do
  if not (string.match(fields[i], '^%d+$') and #fields[i] <= 15) then return fail(E.CORRUPT, KEYS[1]) end
end
return fields
