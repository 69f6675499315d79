--[[
  Removes every key of the session, the observer lease, job state and
  archive backlog included, unless the session belongs to another user than
  the caller.

  KEYS[1] meta hash      the user binding; deleted
  KEYS[2] turns list     deleted
  KEYS[3] tools hash     deleted
  KEYS[4] observer hash  deleted
  KEYS[5] observer lease deleted
  KEYS[6] jobs hash      deleted
  KEYS[7] archive backlog  deleted: what was not archived yet never will be
  KEYS[8] archive lease  deleted
  KEYS[9] tool-order zset  deleted
  KEYS[10] idempotency hash  deleted: a retry after the delete must not answer
          with a turn of the deleted session

  ARGV[1] the caller: '' no user check, '-' anonymous, '=<userId>' that user
          (see includes/foreign)
  ARGV[2] not read (the store passes '0': nothing is left to refresh)
  ARGV[3] events: '' for none, 'PUBLISH' or 'SPUBLISH' (Cluster): how the
          change is announced on '<prefix>{<id>}:events' (see includes/events);
          published only when there was something to remove

  Returns the number of keys removed (0 for a session that does not exist).
  Errors: USER_MISMATCH (another user's session; nothing was removed).

  Whatever the other keys hold, a delete works: it is how a corrupt session
  is cleared. A meta hash that is not a hash holds no binding to check, so
  the session is deleted for any caller (its id is all anyone needs, as for
  an unbound session).
]]
--- @include "includes/foreign"
--- @include "includes/events"

if redis.call('TYPE', KEYS[1])['ok'] == 'hash' and foreign() then return fail(E.USER_MISMATCH) end
local removed = redis.call('DEL', unpack(KEYS))
if removed > 0 then publish_event(ARGV[3], 'deleted') end
return removed
