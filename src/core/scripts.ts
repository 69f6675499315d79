import { defineScript } from '../redis/script.js';

/**
 * The Lua scripts behind every agent state operation.
 *
 * Every script receives the session's four state keys in the same order
 * (see `stateKeys()` in keys.ts) and the same two leading arguments:
 *
 *   KEYS[1] meta   KEYS[2] turns   KEYS[3] tools   KEYS[4] observer
 *   ARGV[1] owner: ''  = no user check,
 *                  '-' = an anonymous caller (refused if the session is bound to a user),
 *                  '=<userId>' = that user (an unbound session is bound to them)
 *   ARGV[2] idle timeout in ms: every key's TTL is reset to it ('0' leaves TTLs alone,
 *           'session' uses the idle timeout the session was created with, for
 *           background writers such as the observer that do not know the app's)
 *
 * Why scripts: each operation checks existence and ownership, changes one or
 * more keys and resets the TTL of all four keys, and must do so atomically and
 * in one round trip. Two workers, or a worker and the observer, can write the
 * same session at once; nothing here reads a value into Node and writes it back.
 * All keys share the `{id}` hash tag, so every script runs on one Cluster node.
 */
/** Redis server time in ms: every timestamp agent-session stores comes from it. */
export const LUA_NOW_MS = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

const PRELUDE = `${LUA_NOW_MS}

-- True when the session is bound to someone other than the caller (ARGV[1]);
-- second result: whether it is bound at all.
local function foreign()
  local owner = ARGV[1]
  if owner == '' then return false, true end
  local bound = redis.call('HGET', KEYS[1], 'userId')
  if not bound then return false, false end
  return owner == '-' or bound ~= string.sub(owner, 2), true
end

-- Refuses a missing session or a caller who is not the session's user, and
-- binds an unbound session to the user who uses it.
local function guard()
  if redis.call('EXISTS', KEYS[1]) == 0 then return redis.error_reply('NOSESSION') end
  local refused, bound = foreign()
  if refused then return redis.error_reply('USERMISMATCH') end
  if not bound and string.sub(ARGV[1], 1, 1) == '=' then
    redis.call('HSET', KEYS[1], 'userId', string.sub(ARGV[1], 2))
  end
  return nil
end

local function refresh()
  local ttl = ARGV[2]
  if ttl == 'session' then ttl = redis.call('HGET', KEYS[1], 'idleTimeoutMs') or '0' end
  ttl = tonumber(ttl)
  if ttl > 0 then
    for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], ttl) end
  end
end

-- Activity without a change: lastActive and every key's TTL. 0 for a missing
-- session (nothing is created), -1 for another user's session (untouched).
local function touch_session()
  if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
  if foreign() then return -1 end
  redis.call('HSET', KEYS[1], 'lastActive', now_ms())
  refresh()
  return 1
end

-- Observer writes: refused once the run's lease (KEYS[5]) no longer holds
-- its fencing token, and for a missing session, which is never recreated.
local function fenced(token)
  if token ~= '' and redis.call('GET', KEYS[5]) ~= token then return redis.error_reply('LEASELOST') end
  if redis.call('EXISTS', KEYS[1]) == 0 then return redis.error_reply('NOSESSION') end
  return nil
end
`;

const script = (name: string, body: string) => defineScript(name, PRELUDE + body);

/**
 * Creates the session. ARGV[3..]: field/value pairs for the meta hash.
 * Fails with EXISTS rather than merging into a session that is already there.
 * The idle timeout is kept in the session, for writers that refresh with 'session'.
 */
export const CREATE = script(
  'agent-session:create',
  `
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.error_reply('EXISTS') end
local now = now_ms()
redis.call('HSET', KEYS[1], 'createdAt', now, 'lastActive', now, 'turnCount', 0, 'idleTimeoutMs', ARGV[2], unpack(ARGV, 3))
refresh()
return now
`,
);

/**
 * Appends one turn. ARGV[3] window size, ARGV[4] the turn as a JSON object
 * without seq and ts; Redis assigns both. The timestamp never goes backwards
 * (it is the max of the clock and the previous turn's), which keeps the list
 * sorted by time for the binary search in READ. RPUSH + LTRIM of one element
 * is O(1) whatever the window.
 * Returns { seq, ts }.
 */
export const APPEND_TURN = script(
  'agent-session:append-turn',
  `
local err = guard()
if err then return err end
local now = now_ms()
local ts = math.max(now, tonumber(redis.call('HGET', KEYS[1], 'lastTurnAt') or '0'))
local seq = redis.call('HINCRBY', KEYS[1], 'turnCount', 1)
redis.call('HSET', KEYS[1], 'lastActive', now, 'lastTurnAt', ts)
redis.call('RPUSH', KEYS[2], '{"seq":' .. seq .. ',"ts":' .. string.format('%d', ts) .. ',' .. string.sub(ARGV[4], 2))
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
refresh()
return { seq, ts }
`,
);

/**
 * Reads any part of the session in one round trip.
 * ARGV[3] turn selection: 'none' | 'last' (ARGV[4] = n) | 'seq' (ARGV[4]..ARGV[5])
 *         | 'time' (ARGV[4]..ARGV[5], ms, inclusive)
 * ARGV[6] '1' to include tool calls, ARGV[7] '1' to include the observer hash.
 * Returns { meta, turns, tools, observer, serverNowMs }.
 *
 * The window holds the contiguous seqs (turnCount - LLEN + 1) .. turnCount, so
 * a seq range is index arithmetic; a time range is a binary search over the
 * non-decreasing "ts" of each turn.
 */
export const READ = script(
  'agent-session:read',
  `
local err = guard()
if err then return err end
local turns = {}
local mode = ARGV[3]
if mode == 'last' then
  local n = tonumber(ARGV[4])
  if n > 0 then turns = redis.call('LRANGE', KEYS[2], -n, -1) end
elseif mode == 'seq' then
  local len = redis.call('LLEN', KEYS[2])
  local last = tonumber(redis.call('HGET', KEYS[1], 'turnCount') or '0')
  local first = last - len + 1
  local from = math.max(tonumber(ARGV[4]), first)
  local to = math.min(tonumber(ARGV[5]), last)
  if from <= to then turns = redis.call('LRANGE', KEYS[2], from - first, to - first) end
elseif mode == 'time' then
  local len = redis.call('LLEN', KEYS[2])
  local function ts_at(i)
    local ts = string.match(redis.call('LINDEX', KEYS[2], i), '^{"seq":%d+,"ts":(%d+)')
    if not ts then error('CORRUPT turn at index ' .. i) end
    return tonumber(ts)
  end
  local from, to = tonumber(ARGV[4]), tonumber(ARGV[5])
  local lo, hi = 0, len
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if ts_at(mid) < from then lo = mid + 1 else hi = mid end
  end
  local startIndex = lo
  hi = len
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if ts_at(mid) <= to then lo = mid + 1 else hi = mid end
  end
  if lo > startIndex then turns = redis.call('LRANGE', KEYS[2], startIndex, lo - 1) end
end
local meta = redis.call('HGETALL', KEYS[1])
local tools = {}
if ARGV[6] == '1' then tools = redis.call('HGETALL', KEYS[3]) end
local observer = {}
if ARGV[7] == '1' then observer = redis.call('HGETALL', KEYS[4]) end
refresh()
return { meta, turns, tools, observer, now_ms() }
`,
);

/**
 * Sets metadata fields one by one (HSET of only the named fields) and deletes
 * others. ARGV[3] = number of field/value pairs that follow; the remaining
 * arguments are fields to delete.
 */
export const UPDATE_META = script(
  'agent-session:update-meta',
  `
local err = guard()
if err then return err end
local pairs_count = tonumber(ARGV[3])
if pairs_count > 0 then redis.call('HSET', KEYS[1], unpack(ARGV, 4, 3 + 2 * pairs_count)) end
if #ARGV > 3 + 2 * pairs_count then redis.call('HDEL', KEYS[1], unpack(ARGV, 4 + 2 * pairs_count)) end
redis.call('HSET', KEYS[1], 'lastActive', now_ms())
refresh()
return 1
`,
);

/**
 * Records a new pending tool call: ARGV[3] call id, ARGV[4] tool name,
 * ARGV[5] arguments as JSON. Each attribute is its own hash field
 * ("<id>:status", ...), so updating one call never rewrites another.
 * Returns startedAt.
 */
export const START_TOOL_CALL = script(
  'agent-session:start-tool-call',
  `
local err = guard()
if err then return err end
local id = ARGV[3]
if redis.call('HEXISTS', KEYS[3], id .. ':status') == 1 then return redis.error_reply('TOOLEXISTS') end
local now = now_ms()
redis.call('HSET', KEYS[3], id .. ':name', ARGV[4], id .. ':status', 'pending', id .. ':args', ARGV[5], id .. ':startedAt', now)
redis.call('HSET', KEYS[1], 'lastActive', now)
refresh()
return now
`,
);

/**
 * Moves a pending tool call to 'completed' (ARGV[5] = result JSON) or 'failed'
 * (ARGV[5] = error message): ARGV[3] call id, ARGV[4] the new status.
 * Only a pending call can finish, so a retried completion cannot overwrite
 * the first one. Returns finishedAt.
 */
export const FINISH_TOOL_CALL = script(
  'agent-session:finish-tool-call',
  `
local err = guard()
if err then return err end
local id = ARGV[3]
local status = redis.call('HGET', KEYS[3], id .. ':status')
if not status then return redis.error_reply('NOTOOLCALL') end
if status ~= 'pending' then return redis.error_reply('TOOLSTATE ' .. status) end
local now = now_ms()
local field = 'result'
if ARGV[4] == 'failed' then field = 'error' end
redis.call('HSET', KEYS[3], id .. ':status', ARGV[4], id .. ':' .. field, ARGV[5], id .. ':finishedAt', now)
redis.call('HSET', KEYS[1], 'lastActive', now)
refresh()
return now
`,
);

/**
 * Activity without a change: resets the TTL of all four keys and lastActive.
 * Returns 0 (and creates nothing) when the session does not exist; refuses
 * (USERMISMATCH) to keep another user's session alive.
 */
export const TOUCH = script(
  'agent-session:touch',
  `
local touched = touch_session()
if touched == -1 then return redis.error_reply('USERMISMATCH') end
return touched
`,
);

/**
 * TOUCH, plus extending one key outside the session (KEYS[5], the cookie
 * session) to ARGV[3] ms in the same call, so that a request that only
 * keeps its session alive costs one command for both. PEXPIRE never
 * recreates that key. Only where KEYS[5] is on the same node as the session
 * (standalone, Sentinel); on Cluster it is another slot. Returns
 * { touch_session() result, 1 if KEYS[5] existed else 0 }.
 */
export const TOUCH_ALONG = script(
  'agent-session:touch-along',
  `
local extended = redis.call('PEXPIRE', KEYS[5], ARGV[3])
return { touch_session(), extended }
`,
);

/**
 * Writes observer notes. KEYS[5] = the observer lease; ARGV[3] = fencing
 * token ('' = unfenced), ARGV[4] = last turn seq the notes cover, ARGV[5] =
 * notes JSON.
 * - a fenced write whose token is no longer the lease's value is refused
 *   (LEASELOST): a run that lost its lease cannot write;
 * - a missing session is refused (NOSESSION) and no key is created;
 * - notes that already cover a later turn are kept (returns 0): a slow old
 *   run cannot clobber a fresh one.
 * Returns 1 when written.
 */
export const WRITE_NOTES = script(
  'agent-session:write-notes',
  `
local err = fenced(ARGV[3])
if err then return err end
local covers = tonumber(ARGV[4])
local current = tonumber(redis.call('HGET', KEYS[4], 'coversThroughSeq') or '-1')
if current > covers then return 0 end
redis.call('HSET', KEYS[4], 'notes', ARGV[5], 'writtenAt', now_ms(), 'coversThroughSeq', covers)
redis.call('HDEL', KEYS[4], 'lastError', 'lastErrorAt')
refresh()
return 1
`,
);

/**
 * Records the observer's last failure so the primary can see it: ARGV[3] =
 * fencing token, ARGV[4] = message. Same lease and existence rules as
 * WRITE_NOTES (KEYS[5] = lease); existing notes are kept.
 */
export const WRITE_OBSERVER_ERROR = script(
  'agent-session:write-observer-error',
  `
local err = fenced(ARGV[3])
if err then return err end
redis.call('HSET', KEYS[4], 'lastError', ARGV[4], 'lastErrorAt', now_ms())
refresh()
return 1
`,
);

/**
 * Removes every key of the session, the observer lease and job state
 * included (KEYS = all of them, meta first), unless the session belongs to
 * another user than the caller (USERMISMATCH). Returns the number removed.
 */
export const DELETE = script(
  'agent-session:delete',
  `
if foreign() then return redis.error_reply('USERMISMATCH') end
return redis.call('DEL', unpack(KEYS))
`,
);

// --- observation requests ---------------------------------------------------
//
// Coalescing: each session keeps, per observer kind, the state of its
// observation job in one field of its `jobs` hash (same slot as the session):
//
//   (none) --request--> queued        the requester then XADDs one job
//   queued --request--> queued        coalesced: the queued job will see this turn
//   queued --run starts--> running    (observer/scripts.ts BEGIN_RUN)
//   running --request--> rerun        coalesced: one more run after this one
//   rerun  --request--> rerun
//   running --run ends--> (none)
//   rerun  --run ends--> queued       the worker XADDs the one extra job
//
// A state carries a deadline and reads as absent once it has passed, so a
// marker whose job never made it into the queue (the requester crashed
// between the two steps) or whose run died stops swallowing requests on its
// own: "queued" lives OBSERVER_QUEUED_TTL_MS, "running"/"rerun" as long as
// the run's lease, which the worker extends while it runs.

/** Lua helpers over the jobs hash; need now_ms (LUA_NOW_MS). */
export const LUA_JOB_STATE = `
local function job_state(key, kind, now)
  local value = redis.call('HGET', key, kind)
  if not value then return nil end
  local state, deadline = string.match(value, '^(%a+):(%d+)$')
  if not state or tonumber(deadline) <= now then return nil end
  return state, tonumber(deadline)
end

-- The key lives as long as its longest deadline.
local function set_job_state(key, kind, state, deadline, now)
  redis.call('HSET', key, kind, state .. ':' .. string.format('%d', deadline))
  local ttl = deadline - now
  if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
end
`;

/**
 * Step 1 of requestObservation. KEYS[5] = jobs hash; ARGV[3] observer kind,
 * ARGV[4] how long a "queued" state may wait for its run (ms).
 * Refuses a missing session (NOSESSION) without creating anything.
 * Returns 'enqueue' when the caller must now add a job to the queue, else
 * the state the request coalesced into: 'queued', 'running' or 'rerun'.
 */
export const REQUEST_OBSERVATION = script(
  'agent-session:request-observation',
  LUA_JOB_STATE +
    `
local err = guard()
if err then return err end
local now = now_ms()
local state, deadline = job_state(KEYS[5], ARGV[3], now)
refresh()
if not state then
  set_job_state(KEYS[5], ARGV[3], 'queued', now + tonumber(ARGV[4]), now)
  return 'enqueue'
end
if state == 'running' then set_job_state(KEYS[5], ARGV[3], 'rerun', deadline, now) end
return state
`,
);

/**
 * Step 2 of requestObservation: one job into the kind's queue.
 * KEYS[1] = the queue stream; ARGV[1] = session id. Returns the job (entry) id.
 * A script rather than a bare XADD so that the store needs nothing of its
 * client beyond EVALSHA/EVAL.
 */
export const ENQUEUE_OBSERVATION = defineScript(
  'agent-session:enqueue-observation',
  `return redis.call('XADD', KEYS[1], '*', 'session', ARGV[1])`,
);

/**
 * Undoes step 1 when step 2 failed, so later requests are not coalesced into
 * a job that does not exist. KEYS[1] = jobs hash, ARGV[1] = kind. Only a
 * "queued" state is removed: if a run already started meanwhile it stays.
 */
export const CANCEL_OBSERVATION = defineScript(
  'agent-session:cancel-observation',
  LUA_NOW_MS +
    LUA_JOB_STATE +
    `
if job_state(KEYS[1], ARGV[1], now_ms()) == 'queued' then redis.call('HDEL', KEYS[1], ARGV[1]) end
return 1
`,
);
