--[[
  Writes observer notes, unless notes covering a later turn are already
  there: a slow old run cannot clobber a fresh one. A fenced write is refused
  once its run has lost the lease.

  KEYS[1] meta hash      existence; TTL
  KEYS[2] turns list     TTL only
  KEYS[3] tools hash     TTL only
  KEYS[4] observer hash  notes, writtenAt, coversThroughSeq; lastError and
                         lastErrorAt removed
  KEYS[5] the observer lease (string): compared with ARGV[4]
  KEYS[6] archive backlog  this version of the notes, when archiving
                         (see includes/archive)

  ARGV[1] the caller; not read (the store passes '': the observer is trusted)
  ARGV[2] TTL in ms every key is reset to ('session' for the observer, which
          keeps the session's own idle timeout; see includes/refresh)
  ARGV[3] archive: '' when the store does not archive, else
          '<maxEntries>:<ttlMs>' for the backlog (see includes/archive)
  ARGV[4] fencing token ('' = unfenced)
  ARGV[5] seq of the last turn the notes cover
  ARGV[6] the notes, as JSON
  ARGV[7] events: '' for none, 'PUBLISH' or 'SPUBLISH' (Cluster): how the
          change is announced on '<prefix>{<id>}:events' (see includes/events);
          the event's seq is coversThroughSeq

  Returns 1 when written, 0 when the stored notes cover a later turn (kept).
  Errors: CORRUPT <key>, LEASE_LOST, NO_SESSION (see includes/fenced),
  BACKLOG_FULL (see includes/archive); nothing is written.
]]
--- @include "includes/now-ms"
--- @include "includes/refresh"
--- @include "includes/fenced"
--- @include "includes/archive"
--- @include "includes/events"

local err = fenced(KEYS[5], ARGV[4]) or archive_room(KEYS[6], 1)
if err then return err end
local covers = tonumber(ARGV[5])
local current = tonumber(redis.call('HGET', KEYS[4], 'coversThroughSeq') or '-1')
if current > covers then return 0 end
local written_at = now_ms()
redis.call('HSET', KEYS[4], 'notes', ARGV[6], 'writtenAt', written_at, 'coversThroughSeq', covers)
archive_push(KEYS[6], 'n{"coversThroughSeq":' .. string.format('%d', covers) .. ',"writtenAt":' .. string.format('%d', written_at) .. ',"notes":' .. ARGV[6] .. '}')
redis.call('HDEL', KEYS[4], 'lastError', 'lastErrorAt')
refresh()
publish_event(ARGV[7], 'notes_written', covers, nil, written_at)
return 1
