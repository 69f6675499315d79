--[[
  Puts a conversation back from the cold tier after its keys left Redis
  (expiry, eviction, a flush): metadata, the newest turns, tool calls and the
  latest notes, in one atomic step, or nothing when the session is already
  there (a concurrent resume restored it first, or it never left). The
  restored turnCount is the archive's last seq, so the next append continues
  the sequence instead of reusing a seq. Nothing goes to the archive backlog:
  all of it came from the archive.

  KEYS[1] meta hash      written from ARGV[3]
  KEYS[2] turns list     written from ARGV[4]
  KEYS[3] tools hash     written from ARGV[5]
  KEYS[4] observer hash  written from ARGV[6]
  KEYS[5] archive backlog  read: turns the archiver has not copied yet (it
                         lags, and the backlog outlives the session) are
                         put back after the archived ones, so the restored
                         turnCount is the newest seq ever assigned

  ARGV[1] the caller; not read (the store checked the archived owner first)
  ARGV[2] idle timeout in ms: the TTL of every key
  ARGV[3] meta as a JSON array of field, value, field, value ... (strings)
  ARGV[4] turns as a JSON array of the stored turn strings, oldest first
  ARGV[5] tool calls as a JSON array of field, value ... for the tools hash
  ARGV[6] observer fields as a JSON array of field, value ... ('[]' for none)
  ARGV[7] window: how many turns the list keeps
  ARGV[8] events: '' for none, 'PUBLISH' or 'SPUBLISH' (Cluster): how the
          change is announced on '<prefix>{<id>}:events' (see includes/events)

  Returns 'restored', or 'exists' when the session is there (nothing written).
  Errors: CORRUPT <key> (a leftover key of the session, or the backlog, holds
  another type; see includes/check-keys): nothing is written.
]]
--- @include "includes/refresh"
--- @include "includes/check-session"
--- @include "includes/events"

if redis.call('EXISTS', KEYS[1]) == 1 then return 'exists' end
local err = check_session() or check_type(KEYS[5], 'list')
if err then return err end
local meta = cjson.decode(ARGV[3])
local turns = cjson.decode(ARGV[4])
local tools = cjson.decode(ARGV[5])
local observer = cjson.decode(ARGV[6])
redis.call('HSET', KEYS[1], unpack(meta))
-- RPUSH in slices: unpack() of a very long table would overflow Lua's stack.
for i = 1, #turns, 500 do redis.call('RPUSH', KEYS[2], unpack(turns, i, math.min(i + 499, #turns))) end
-- Turns still waiting in the backlog, newer than the archive's last seq: their
-- seqs were assigned, so the next append must come after them.
local last_seq = 0
for i = 1, #meta - 1, 2 do
  if meta[i] == 'turnCount' then last_seq = tonumber(meta[i + 1]) end
end
local newest, newest_ts = last_seq, nil
for _, entry in ipairs(redis.call('LRANGE', KEYS[5], 0, -1)) do
  local seq, ts = string.match(entry, '^t{"seq":(%d+),"ts":(%d+)')
  if seq and tonumber(seq) > newest then
    redis.call('RPUSH', KEYS[2], string.sub(entry, 2))
    newest, newest_ts = tonumber(seq), ts
  end
end
if newest > last_seq then
  redis.call('HSET', KEYS[1], 'turnCount', newest, 'lastTurnAt', newest_ts)
  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[7]), -1)
end
for i = 1, #tools, 500 do redis.call('HSET', KEYS[3], unpack(tools, i, math.min(i + 499, #tools))) end
if #observer > 0 then redis.call('HSET', KEYS[4], unpack(observer)) end
refresh()
publish_event(ARGV[8], 'restored')
return 'restored'
