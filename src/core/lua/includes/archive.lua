--[[
  The cold tier's backlog. When the store archives (ARGV[3] is not ''),
  every change a script makes is also pushed, as one entry, onto the
  session's backlog list, which the archiver drains into PostgreSQL. The
  window can move on, or the session expire, before the archiver runs: the
  backlog keeps its own copy until it is archived.

  ARGV[3]  '' when the store does not archive, else '<maxEntries>:<ttlMs>':
           at most maxEntries entries wait in one session's backlog (a write
           that would pass that is refused with BACKLOG_FULL before anything
           is written), and the backlog lives ttlMs after its last push,
           longer than the session, so an archiver that was down for less
           than that still finds it.

  Entries, one character of kind then the payload:
    't' .. the turn as stored in the turns list (JSON with seq and ts)
    'c' .. a tool call as JSON { id, name, status, args, result?, error?, startedAt, finishedAt?, cached? }
    'n' .. a version of the observer notes as JSON { coversThroughSeq, writtenAt, notes }
    'm'    the metadata changed (the archiver reads the meta hash when it drains)

  archive_room(key, n): nil, or the error reply when n more entries would not
    fit, or CORRUPT <key> when the backlog is not a list. Reads only.
  archive_push(key, entry): pushes one entry and resets the backlog's TTL.
]]
--- @include "check-keys"

local function archive_spec()
  if ARGV[3] == '' then return nil end
  local max_entries, ttl = string.match(ARGV[3], '^(%d+):(%d+)$')
  return tonumber(max_entries), tonumber(ttl)
end

local function archive_room(key, n)
  local max_entries = archive_spec()
  if not max_entries then return nil end
  local err = check_type(key, 'list')
  if err then return err end
  if redis.call('LLEN', key) + n > max_entries then return fail(E.BACKLOG_FULL, tostring(max_entries)) end
  return nil
end

local function archive_push(key, entry)
  local _, ttl = archive_spec()
  if not ttl then return end
  redis.call('RPUSH', key, entry)
  redis.call('PEXPIRE', key, ttl)
end

-- A tool call's fields (KEYS[3], "<id>:<attribute>") as one backlog entry.
local function archive_tool_entry(id)
  local f = redis.call('HMGET', KEYS[3], id .. ':name', id .. ':status', id .. ':args', id .. ':result', id .. ':error', id .. ':startedAt', id .. ':finishedAt', id .. ':cached')
  local json = '{"id":' .. cjson.encode(id) .. ',"name":' .. cjson.encode(f[1] or '') .. ',"status":' .. cjson.encode(f[2] or 'pending')
    .. ',"args":' .. (f[3] or 'null') .. ',"startedAt":' .. (f[6] or '0')
  if f[4] then json = json .. ',"result":' .. f[4] end
  if f[5] then json = json .. ',"error":' .. cjson.encode(f[5]) end
  if f[7] then json = json .. ',"finishedAt":' .. f[7] end
  if f[8] == '1' then json = json .. ',"cached":true' end
  return 'c' .. json .. '}'
end
