--[[
  Records a new pending tool call. Each attribute is its own hash field
  ("<id>:status", ...), so updating one call never rewrites another.

  The tools hash keeps a window of calls (ARGV[9]): once it holds more, the
  oldest finished calls leave it (their copy in the archive backlog stays);
  pending calls never do, so the hash holds at most the window, or more only
  while more calls than that are pending. The start order is in KEYS[7]
  (scores 1, 2, ...), so finding the oldest costs O(log n) and not a scan of
  the hash. That zset expires with the hash at the time of a start; if it is
  gone while the hash is not (a later write refreshed only the hash, a
  restore from the cold tier, a session written before the window existed),
  it is rebuilt from the calls' startedAt, once.

  KEYS[1] meta hash      lastActive; the user binding
  KEYS[2] turns list     TTL only
  KEYS[3] tools hash     <id>:name, <id>:status = 'pending', <id>:args, <id>:startedAt
  KEYS[4] observer hash  TTL only
  KEYS[5] archive backlog  the call, when archiving (see includes/archive)
  KEYS[6] idempotency hash  the record of ARGV[7], if given (see includes/idempotency)
  KEYS[7] tool-order zset  the ids of the calls in KEYS[3] by start order

  ARGV[1] the caller: '' no user check, '-' anonymous, '=<userId>' that user
          (see includes/guard)
  ARGV[2] TTL in ms every key is reset to (see includes/refresh)
  ARGV[3] archive: '' when the store does not archive, else
          '<maxEntries>:<ttlMs>' for the backlog (see includes/archive)
  ARGV[4] the call's id
  ARGV[5] the tool's name
  ARGV[6] the arguments, as JSON
  ARGV[7] idempotency key: '' for none; else a repeat of a start with this key
          (and this id, name and arguments) returns the first one's startedAt
          and writes nothing
  ARGV[8] idempotency records: '<ttlMs>:<maxKeys>' (see includes/idempotency)
  ARGV[9] the window: how many calls the tools hash keeps (pending ones aside)
  ARGV[10] events: '' for none, 'PUBLISH' or 'SPUBLISH' (Cluster): how the
          change is announced on '<prefix>{<id>}:events' (see includes/events)

  Returns startedAt (ms, Redis clock).
  Errors: CORRUPT <key> (see includes/check-keys); BACKLOG_FULL (see
  includes/archive); NO_SESSION, USER_MISMATCH (see
  includes/guard); TOOL_CALL_EXISTS (a call with this id was already started);
  IDEMPOTENCY_CONFLICT (the key was used for another call), CORRUPT <KEYS[6]>
  (see includes/idempotency); CORRUPT <KEYS[7]> (not a zset). Nothing is
  written.
]]
--- @include "includes/now-ms"
--- @include "includes/check-session"
--- @include "includes/guard"
--- @include "includes/refresh"
--- @include "includes/archive"
--- @include "includes/idempotency"
--- @include "includes/events"

local err = check_session() or archive_room(KEYS[5], 1) or guard()
if err then return err end

-- Idempotency (ARGV[7]) and the window's order (KEYS[7]): checks only, before any write.
local idem_fp = ''
if ARGV[7] ~= '' then
  idem_fp = string.sub(redis.sha1hex(#ARGV[4] .. ':' .. ARGV[4] .. #ARGV[5] .. ':' .. ARGV[5] .. ARGV[6]), 1, 16)
end
local idem_err, idem_hit = idem_check(KEYS[6], ARGV[7], ARGV[8], idem_fp, now_ms())
if idem_err then return idem_err end
if idem_hit then
  if not string.match(idem_hit, '^%d+$') then return fail(E.CORRUPT, KEYS[6]) end
  return tonumber(idem_hit)
end
local order_err = check_type(KEYS[7], 'zset')
if order_err then return order_err end
local order_type = redis.call('TYPE', KEYS[7])['ok']
local id = ARGV[4]
if redis.call('HEXISTS', KEYS[3], id .. ':status') == 1 then return fail(E.TOOL_CALL_EXISTS) end
-- End of the checks.

bind()
local now = now_ms()
redis.call('HSET', KEYS[3], id .. ':name', ARGV[5], id .. ':status', 'pending', id .. ':args', ARGV[6], id .. ':startedAt', now)
redis.call('HSET', KEYS[1], 'lastActive', now)
archive_push(KEYS[5], archive_tool_entry(id))

-- The window: record the start order, then let the oldest finished calls go.
if order_type == 'none' then
  -- Rebuild from the hash (the new call included), oldest first.
  local calls = {}
  local fields = redis.call('HGETALL', KEYS[3])
  for i = 1, #fields - 1, 2 do
    local call_id = string.match(fields[i], '^(.*):startedAt$')
    if call_id then calls[#calls + 1] = { call_id, tonumber(fields[i + 1]) or 0 } end
  end
  table.sort(calls, function(a, b)
    if a[2] ~= b[2] then return a[2] < b[2] end
    return a[1] < b[1]
  end)
  for i = 1, #calls do
    if calls[i][1] ~= id then redis.call('ZADD', KEYS[7], i, calls[i][1]) end
  end
end
local newest = redis.call('ZRANGE', KEYS[7], -1, -1, 'WITHSCORES')
redis.call('ZADD', KEYS[7], (tonumber(newest[2]) or 0) + 1, id)
local excess = redis.call('ZCARD', KEYS[7]) - tonumber(ARGV[9])
if excess > 0 then
  for _, old in ipairs(redis.call('ZRANGE', KEYS[7], 0, -1)) do
    if excess <= 0 then break end
    if redis.call('HGET', KEYS[3], old .. ':status') ~= 'pending' then
      redis.call('HDEL', KEYS[3], old .. ':name', old .. ':status', old .. ':args', old .. ':result', old .. ':error',
        old .. ':startedAt', old .. ':finishedAt', old .. ':cached')
      redis.call('ZREM', KEYS[7], old)
      excess = excess - 1
    end
  end
end
-- The order lives as long as the hash does now (refresh() below resets the hash's TTL as computed here).
local order_ttl = ARGV[2]
if order_ttl == 'session' then order_ttl = redis.call('HGET', KEYS[1], 'idleTimeoutMs') or '0' end
order_ttl = tonumber(order_ttl) or 0
if order_ttl <= 0 then order_ttl = redis.call('PTTL', KEYS[3]) end
if order_ttl > 0 then redis.call('PEXPIRE', KEYS[7], order_ttl) end
idem_store(KEYS[6], ARGV[7], ARGV[8], idem_fp, now, tostring(now))
refresh()
publish_event(ARGV[10], 'tool_call_started', nil, id, now)
return now
