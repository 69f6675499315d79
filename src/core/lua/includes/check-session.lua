--[[
  check_session(): nil, or CORRUPT <key> when one of the session's four
  state keys (KEYS[1..4]: meta hash, turns list, tools hash, observer hash)
  has another type, or a counter or time the scripts compute with (meta:
  createdAt, lastActive, turnCount, lastTurnAt, idleTimeoutMs; observer:
  writtenAt, coversThroughSeq, lastErrorAt) is not a whole number. Reads
  only: every session script calls it before anything else, so no later
  HINCRBY, tonumber or command meets a value it cannot take.
]]
--- @include "check-keys"

local function check_session()
  return check_integers(KEYS[1], 'createdAt', 'lastActive', 'turnCount', 'lastTurnAt', 'idleTimeoutMs')
    or check_type(KEYS[2], 'list') or check_type(KEYS[3], 'hash') or check_integers(KEYS[4], 'writtenAt', 'coversThroughSeq', 'lastErrorAt')
end
