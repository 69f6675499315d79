--[[
  Loads a cookie session (KEYS[5], a JSON string) and keeps it and its
  agent session alive in the same call, so that a request which only uses
  its session costs one round trip. For a cookie session whose key shares
  the agent session's slot (its id carries the agent id as hash tag, see
  src/request/agent-id.ts), so this runs on Cluster too.

  The cookie session is extended only while its PTTL is above ARGV[4] (an
  expired one is left for the framework to refuse). The agent session is
  touched only when the cookie session's link (the object in field ARGV[5])
  names ARGV[6], and then as the user the link records ('-' anonymous when
  it records none): a session bound to someone else is left untouched. The
  request's own user is only known later (getUserId); when it turns out to be
  another, the middleware undoes this touch (untouch-4) with the values
  returned here.

  KEYS[1] meta hash      lastActive; the user binding (read, never written)
  KEYS[2] turns list     TTL only
  KEYS[3] tools hash     TTL only
  KEYS[4] observer hash  TTL only
  KEYS[5] the cookie session: GET, PTTL, PEXPIRE (never recreated)

  ARGV[1] unused, pass '' (the caller is the user the link records)
  ARGV[2] TTL in ms the agent keys are reset to (see includes/refresh)
  ARGV[3] TTL in ms KEYS[5] is extended to
  ARGV[4] KEYS[5] is extended only when its PTTL is above this many ms
  ARGV[5] the field of the cookie session's JSON holding the link { id, userId? }
  ARGV[6] the agent session id of KEYS[1..4]

  Returns { value, pttl, extended, touched, token, lastActive, deadline }:
    value      KEYS[5]'s string, false when missing or not a string
    pttl       KEYS[5]'s PTTL before this call (-2 missing, -3 not a string)
    extended   1 when KEYS[5] was extended, else 0
    touched    1 touched as the link's user; 0 the link names ARGV[6] but
               there is no such session; -1 bound to another user than the
               link records (untouched); -2 corrupt (untouched); -3 not
               looked at (no link to ARGV[6], or KEYS[5] not extended)
    token      the lastActive written (ms, Redis clock), 0 when not touched
    lastActive the meta's lastActive before, false when it had none
    deadline   when the meta key would have expired before (ms, Redis
               clock), 0 when it had no TTL
  Errors: none of its own: a corrupt agent session is reported in `touched`,
  a cookie-session key of another type in `pttl`.
]]
--- @include "includes/now-ms"
--- @include "includes/refresh"

local raw = redis.pcall('GET', KEYS[5])
if type(raw) == 'table' and raw.err then return { false, -3, 0, 0, 0, false, 0 } end
if not raw then return { false, -2, 0, 0, 0, false, 0 } end
local pttl = redis.call('PTTL', KEYS[5])
if pttl <= tonumber(ARGV[4]) then return { raw, pttl, 0, -3, 0, false, 0 } end
redis.call('PEXPIRE', KEYS[5], ARGV[3])

local ok, data = pcall(cjson.decode, raw)
local link = ok and type(data) == 'table' and data[ARGV[5]]
if type(link) ~= 'table' or link.id ~= ARGV[6] then return { raw, pttl, 1, -3, 0, false, 0 } end
local user = link.userId
if user ~= nil and type(user) ~= 'string' then return { raw, pttl, 1, -3, 0, false, 0 } end

-- A touch writes only lastActive (HSET) and TTLs (PEXPIRE works on any
-- type), so the one check it needs is that the meta key is a hash; the
-- fuller check_session of the other scripts is theirs to make.
local kind = redis.call('TYPE', KEYS[1])['ok']
if kind == 'none' then return { raw, pttl, 1, 0, 0, false, 0 } end
if kind ~= 'hash' then return { raw, pttl, 1, -2, 0, false, 0 } end
local meta = redis.call('HMGET', KEYS[1], 'userId', 'lastActive')
-- The binding (as includes/foreign, for the link's user or an anonymous caller).
if meta[1] and meta[1] ~= user then return { raw, pttl, 1, -1, 0, false, 0 } end
local meta_pttl = redis.call('PTTL', KEYS[1])
local now = now_ms()
redis.call('HSET', KEYS[1], 'lastActive', now)
refresh()
return { raw, pttl, 1, 1, now, meta[2] or false, meta_pttl > 0 and now + meta_pttl or 0 }
