--[[
  Drops a session from the archive index once its backlog was found empty,
  unless a writer announced it since (its score moved on) or recently (less
  than ARGV[3] µs ago: a writer that announced it within that time may write
  again without announcing; see core/archive-registry.ts). The caller checks
  the backlog first; a writer that pushes after that check has announced
  first (the score moved, nothing is dropped) or announces again after this
  (the session is back).

  KEYS[1] the archive index (sorted set of session ids, scored in µs of Redis time)

  ARGV[1] the session id
  ARGV[2] its score when the archiver read the index
  ARGV[3] how long a registration protects the session from being dropped (µs)

  Returns 1 if dropped, 0 if kept.
]]
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or score ~= ARGV[2] then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
if tonumber(score) > now - tonumber(ARGV[3]) then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
return 1
