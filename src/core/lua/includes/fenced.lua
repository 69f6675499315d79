--[[
  fenced(lease_key, token): the checks before an observer write. nil when the
  write may go on, else the error reply to return:
    LEASE_LOST  token is not '' and lease_key no longer holds it: the run's
                lease expired and another run took the session over
    NO_SESSION  the session (KEYS[1], its meta hash) does not exist; an
                observer write never recreates it
    CORRUPT     lease_key is not a string, a state key of the session is
                corrupt (see check-session), or a number of the observer
                hash (KEYS[4]: writtenAt, coversThroughSeq, lastErrorAt) is
                not a whole number
  token '' is an unfenced write: no lease check.
]]
--- @include "check-session"

local function fenced(lease_key, token)
  local err = check_session() or check_type(lease_key, 'string')
    or check_integers(KEYS[4], 'writtenAt', 'coversThroughSeq', 'lastErrorAt')
  if err then return err end
  if token ~= '' and redis.call('GET', lease_key) ~= token then return fail(E.LEASE_LOST) end
  if redis.call('EXISTS', KEYS[1]) == 0 then return fail(E.NO_SESSION) end
  return nil
end
