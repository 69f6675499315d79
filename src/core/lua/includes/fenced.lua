--[[
  fenced(lease_key, token): the checks before an observer write. nil when the
  write may go on, else the error reply to return:
    LEASE_LOST  token is not '' and lease_key no longer holds it: the run's
                lease expired and another run took the session over
    NO_SESSION  the session (KEYS[1], its meta hash) does not exist; an
                observer write never recreates it
  token '' is an unfenced write: no lease check.
]]
local function fenced(lease_key, token)
  if token ~= '' and redis.call('GET', lease_key) ~= token then return fail(E.LEASE_LOST) end
  if redis.call('EXISTS', KEYS[1]) == 0 then return fail(E.NO_SESSION) end
  return nil
end
