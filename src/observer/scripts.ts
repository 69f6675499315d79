import { LUA_JOB_STATE, LUA_NOW_MS } from '../core/scripts.js';
import { defineScript } from '../redis/script.js';

/**
 * The worker side of the observer, as Lua scripts. Two groups, never mixed
 * in one script, because a session's keys and an observer queue live in
 * different Cluster slots:
 *
 * - run scripts touch one session's keys (`{id}` hash tag): its meta (only
 *   to see whether the session still exists), its lease and its job state
 *   (the coalescing marker described in core/scripts.ts);
 * - queue scripts touch one observer queue (a stream, consumer group named
 *   after the kind). They are scripts rather than plain commands so that the
 *   worker needs nothing of its client beyond EVALSHA/EVAL, like the store,
 *   and so that "ack this job and queue the next" is one atomic step.
 *
 * No script blocks (XREADGROUP BLOCK is refused inside scripts anyway): the
 * worker polls, see worker.ts.
 */

const RUN_PRELUDE = LUA_NOW_MS + LUA_JOB_STATE;

/**
 * Starts a run: takes the session's lease and marks the kind's job state
 * "running". KEYS[1] meta, KEYS[2] lease, KEYS[3] jobs; ARGV[1] kind,
 * ARGV[2] fencing token, ARGV[3] lease ms.
 * - 'gone': the session no longer exists; its leftover job state is removed,
 *   nothing is created.
 * - 'busy': another run holds the lease (one run per session at a time).
 * - 'started': the lease is ours (SET NX PX) until it expires or we end it.
 * Atomic so that a run never holds the lease of a session that is gone and
 * the "running" mark never exists without a lease holder.
 */
export const BEGIN_RUN = defineScript(
  'agent-session:observer-begin-run',
  RUN_PRELUDE +
    `
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[3])
  return 'gone'
end
if not redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then return 'busy' end
local now = now_ms()
set_job_state(KEYS[3], ARGV[1], 'running', now + tonumber(ARGV[3]), now)
return 'started'
`,
);

/**
 * Heartbeat: extends the lease, and the job state's deadline with it, only
 * while the lease still holds our token (compare-and-set). KEYS[1] lease,
 * KEYS[2] jobs; ARGV[1] kind, ARGV[2] token, ARGV[3] lease ms.
 * Returns 1, or 0 when the lease was lost. A job state that is gone (the
 * session was deleted) is not recreated.
 */
export const EXTEND_RUN = defineScript(
  'agent-session:observer-extend-run',
  RUN_PRELUDE +
    `
if redis.call('GET', KEYS[1]) ~= ARGV[2] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local now = now_ms()
local state = job_state(KEYS[2], ARGV[1], now)
if state == 'running' or state == 'rerun' then
  set_job_state(KEYS[2], ARGV[1], state, now + tonumber(ARGV[3]), now)
end
return 1
`,
);

/**
 * Ends a run: releases the lease if it is still ours (compare-and-delete)
 * and moves the job state on. KEYS[1] meta, KEYS[2] lease, KEYS[3] jobs;
 * ARGV[1] kind, ARGV[2] token, ARGV[3] 'finish' (the run completed) or
 * 'release' (it did not: stop, lost lease, Redis failure), ARGV[4] ms a
 * "queued" state lasts.
 * - 'taken': another run holds the lease now. It started after this one, so
 *   it covers every request this run was serving; nothing is changed.
 * - 'gone': the session no longer exists; leftover job state removed.
 * - 'requeue': one more run is wanted (a request arrived while this one ran,
 *   or this one is being released); the state is now "queued" and the caller
 *   must queue a job (or leave its own pending).
 * - 'done': nothing more is wanted.
 * A lease that already expired unnoticed (no holder) is treated as ours:
 * nobody else is running, so this run's bookkeeping is the one that counts.
 */
export const END_RUN = defineScript(
  'agent-session:observer-end-run',
  RUN_PRELUDE +
    `
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[2] then return 'taken' end
if holder then redis.call('DEL', KEYS[2]) end
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[3])
  return 'gone'
end
local now = now_ms()
local state = job_state(KEYS[3], ARGV[1], now)
if ARGV[3] == 'release' or state == 'rerun' then
  set_job_state(KEYS[3], ARGV[1], 'queued', now + tonumber(ARGV[4]), now)
  return 'requeue'
end
if state == 'running' then redis.call('HDEL', KEYS[3], ARGV[1]) end
return 'done'
`,
);

/** Stream entries as a flat { id, session, id, session, ... } list; Redis < 7 reports deleted entries as nil. */
const LUA_FLATTEN_ENTRIES = `
local function flatten(entries)
  local out = {}
  for _, entry in ipairs(entries) do
    if type(entry) == 'table' then
      local session = ''
      local fields = entry[2]
      if type(fields) == 'table' then
        for i = 1, #fields, 2 do
          if fields[i] == 'session' then session = fields[i + 1] end
        end
      end
      out[#out + 1] = entry[1]
      out[#out + 1] = session
    end
  end
  return out
end
`;

/**
 * Creates the kind's consumer group (and the stream) if missing. The group
 * starts at id 0, so jobs queued before any worker ever ran are delivered.
 * KEYS[1] queue; ARGV[1] group. Returns 1 if created, 0 if it existed.
 */
export const ENSURE_GROUP = defineScript(
  'agent-session:observer-ensure-group',
  `
local reply = redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM')
if type(reply) == 'table' and reply.err then
  if string.sub(reply.err, 1, 9) == 'BUSYGROUP' then return 0 end
  return reply
end
return 1
`,
);

/**
 * New jobs for this consumer (XREADGROUP ... >, no BLOCK). Delivered jobs
 * stay in the group's pending list until acknowledged.
 * KEYS[1] queue; ARGV[1] group, ARGV[2] consumer, ARGV[3] count.
 */
export const READ_JOBS = defineScript(
  'agent-session:observer-read-jobs',
  LUA_FLATTEN_ENTRIES +
    `
local reply = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3], 'STREAMS', KEYS[1], '>')
if not reply then return {} end
return flatten(reply[1][2])
`,
);

/**
 * Takes over jobs another consumer received but has not acknowledged for
 * ARGV[3] ms (it crashed, or is stuck). KEYS[1] queue; ARGV[1] group,
 * ARGV[2] consumer, ARGV[4] scan cursor ('0-0' to start), ARGV[5] count.
 * Returns { next cursor, flat entries }; cursor '0-0' means the scan is complete.
 */
export const CLAIM_JOBS = defineScript(
  'agent-session:observer-claim-jobs',
  LUA_FLATTEN_ENTRIES +
    `
local reply = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], 'COUNT', ARGV[5])
return { reply[1], flatten(reply[2]) }
`,
);

/**
 * Keeps a job this consumer is working on from looking abandoned: resets
 * its idle time (XCLAIM to ourselves, JUSTID, which does not count as a
 * delivery). KEYS[1] queue; ARGV[1] group, ARGV[2] consumer, ARGV[3] job id.
 */
export const TOUCH_JOB = defineScript(
  'agent-session:observer-touch-job',
  `return #redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')`,
);

/**
 * Acknowledges a job and deletes its entry, so the stream only ever holds
 * jobs not yet done; with ARGV[3] = a session id, also queues a new job for
 * it, in the same atomic step (a rerun, or a job handed back on stop).
 * KEYS[1] queue; ARGV[1] group, ARGV[2] job id. Returns the new job id or ''.
 * The acknowledgement comes first: if it fails (the group vanished), nothing
 * was written.
 */
export const ACK_JOB = defineScript(
  'agent-session:observer-ack-job',
  `
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
if ARGV[3] == '' then return '' end
return redis.call('XADD', KEYS[1], '*', 'session', ARGV[3])
`,
);

/**
 * On stop: removes this consumer from the group, but only when it holds no
 * pending job (deleting a consumer drops its pending jobs). KEYS[1] queue;
 * ARGV[1] group, ARGV[2] consumer. Returns 1 if removed.
 */
export const LEAVE_GROUP = defineScript(
  'agent-session:observer-leave-group',
  `
if #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2]) > 0 then return 0 end
redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
return 1
`,
);
