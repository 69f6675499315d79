--[[
  Serves a similarity hit: the entry the caller found near its own arguments
  (see lookup-6's 'near'), if it is still live.

  KEYS[1] entries hash   the entry (see includes/entry)
  KEYS[2] stats hash     counts hits, similarityHits, timeSavedMs

  ARGV[1] the entry's field
  ARGV[2] the tool's TTL (ms)

  Returns { 'hit', storedAt, runMs, result, ageMs }, or { 'gone' } (expired or
  evicted since the candidates were read; counts nothing).
  Errors: CORRUPT <key>. Nothing is written then.
]]
--- @include "../../core/lua/includes/now-ms"
--- @include "../../core/lua/includes/check-keys"
--- @include "includes/entry"

local err = check_type(KEYS[1], 'hash') or check_integers(KEYS[2], 'hits', 'similarityHits', 'timeSavedMs')
if err then return err end
local now = now_ms()
local stored_at, run_ms, result = read_entry(KEYS[1], ARGV[1], tonumber(ARGV[2]), now)
if run_ms == 'corrupt' then return stored_at end
if not stored_at then return { 'gone' } end
redis.call('HINCRBY', KEYS[2], 'hits', 1)
redis.call('HINCRBY', KEYS[2], 'similarityHits', 1)
redis.call('HINCRBY', KEYS[2], 'timeSavedMs', run_ms)
return { 'hit', stored_at, run_ms, result, now - tonumber(stored_at) }
