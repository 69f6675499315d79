--[[
  check_session(): nil, or CORRUPT <key> when one of the session's four
  state keys (KEYS[1..4]: meta hash, turns list, tools hash, observer hash)
  has another type, or a counter or time of the meta hash the scripts
  compute with (createdAt, lastActive, turnCount, lastTurnAt,
  idleTimeoutMs) is not a whole number. Reads only: every session script
  calls it before anything else, so no later HINCRBY, tonumber or command
  meets a value it cannot take. (The observer hash's numbers are checked by
  the scripts that compute with them, see fenced; a reader's decoder
  checks what it returns.)
]]
--- @include "check-keys"

local function check_session()
  return check_integers(KEYS[1], 'createdAt', 'lastActive', 'turnCount', 'lastTurnAt', 'idleTimeoutMs')
    or check_type(KEYS[2], 'list') or check_type(KEYS[3], 'hash') or check_type(KEYS[4], 'hash')
end
