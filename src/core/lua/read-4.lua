--[[
  Reads any part of the session in one round trip.

  The window holds the contiguous seqs (turnCount - LLEN + 1) .. turnCount, so
  a seq range is index arithmetic; a time range is a binary search over the
  non-decreasing "ts" of each turn (see appendTurn).

  KEYS[1] meta hash      read; the user binding
  KEYS[2] turns list     read (the selected turns)
  KEYS[3] tools hash     read if ARGV[6] = '1' (all of it) or '=<callId>' (that call's fields)
  KEYS[4] observer hash  read if ARGV[7] = '1'

  ARGV[1] the caller: '' no user check, '-' anonymous, '=<userId>' that user
          (see includes/guard)
  ARGV[2] TTL in ms every key is reset to ('0' leaves TTLs alone, as for a
          background reader, whose reads are not activity; see includes/refresh)
  ARGV[3] turn selection: 'none' | 'last' | 'seq' | 'time'
  ARGV[4] 'last': how many turns; 'seq': first seq; 'time': from (ms, inclusive);
          'none': not read
  ARGV[5] 'seq': last seq; 'time': to (ms, inclusive); else not read
  ARGV[6] '1' to include the tool calls, '=<callId>' only that call, else '0'
  ARGV[7] '1' to include the observer hash

  Returns { meta (flat HGETALL), turns (JSON strings), tools (flat HGETALL,
  the one call's fields as flat field/value pairs, or {}), observer (flat HGETALL or {}), serverNowMs }.
  Errors: CORRUPT <key> (see includes/check-keys), NO_SESSION, USER_MISMATCH
  (see includes/guard); CORRUPT <KEYS[2]> (a time range met a turn without
  the "seq"/"ts" prefix appendTurn writes). Nothing is written (binding,
  TTLs) on any error.
]]
--- @include "includes/now-ms"
--- @include "includes/check-session"
--- @include "includes/guard"
--- @include "includes/refresh"

local err = check_session() or guard()
if err then return err end
local turns = {}
local mode = ARGV[3]
if mode == 'last' then
  local n = tonumber(ARGV[4])
  if n > 0 then turns = redis.call('LRANGE', KEYS[2], -n, -1) end
elseif mode == 'seq' then
  local len = redis.call('LLEN', KEYS[2])
  local last = tonumber(redis.call('HGET', KEYS[1], 'turnCount') or '0')
  local first = last - len + 1
  local from = math.max(tonumber(ARGV[4]), first)
  local to = math.min(tonumber(ARGV[5]), last)
  if from <= to then turns = redis.call('LRANGE', KEYS[2], from - first, to - first) end
elseif mode == 'time' then
  local len = redis.call('LLEN', KEYS[2])
  -- nil for a turn agent-session did not write
  local function ts_at(i)
    return tonumber(string.match(redis.call('LINDEX', KEYS[2], i), '^{"seq":%d+,"ts":(%d+)'))
  end
  local from, to = tonumber(ARGV[4]), tonumber(ARGV[5])
  local lo, hi = 0, len
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    local ts = ts_at(mid)
    if not ts then return fail(E.CORRUPT, KEYS[2]) end
    if ts < from then lo = mid + 1 else hi = mid end
  end
  local startIndex = lo
  hi = len
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    local ts = ts_at(mid)
    if not ts then return fail(E.CORRUPT, KEYS[2]) end
    if ts <= to then lo = mid + 1 else hi = mid end
  end
  if lo > startIndex then turns = redis.call('LRANGE', KEYS[2], startIndex, lo - 1) end
end
local meta = redis.call('HGETALL', KEYS[1])
local tools = {}
if ARGV[6] == '1' then tools = redis.call('HGETALL', KEYS[3]) end
if string.sub(ARGV[6], 1, 1) == '=' then
  -- One call: only its own fields (HMGET), not the whole window.
  local call_id = string.sub(ARGV[6], 2)
  local names = { 'name', 'status', 'args', 'result', 'error', 'startedAt', 'finishedAt', 'cached' }
  local fields = {}
  for i, name in ipairs(names) do fields[i] = call_id .. ':' .. name end
  local values = redis.call('HMGET', KEYS[3], unpack(fields))
  for i, name in ipairs(names) do
    if values[i] then
      tools[#tools + 1] = fields[i]
      tools[#tools + 1] = values[i]
    end
  end
end
local observer = {}
if ARGV[7] == '1' then observer = redis.call('HGETALL', KEYS[4]) end
-- The writes (a first caller's binding, the TTLs) come after every check above.
bind()
refresh()
return { meta, turns, tools, observer, now_ms() }
