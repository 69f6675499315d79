import { SCRIPT_ERROR_CODES } from '../core/script-errors.js';
import { luaLibrary } from '../redis/lua-loader.js';

/**
 * The worker side of the observer, as Lua scripts: one file each in ./lua/,
 * whose header says what every KEYS[i] and ARGV[i] is and what it returns.
 * Two groups, never mixed in one script, because a session's keys and an
 * observer queue live in different Cluster slots:
 *
 * - run scripts (beginRun, extendRun, endRun) touch one session's keys
 *   (`{id}` hash tag): its meta (only to see whether the session still
 *   exists), its lease and its job state, with core's job-state helpers
 *   (core/lua/includes/job-state.lua describes the coalescing);
 * - queue scripts touch one observer queue (a stream, consumer group named
 *   after the kind). They are scripts rather than plain commands so that the
 *   worker needs nothing of its client beyond EVALSHA/EVAL, like the store,
 *   and so that "ack this job and queue the next" is one atomic step.
 *
 * No script blocks (XREADGROUP BLOCK is refused inside scripts anyway): the
 * worker polls, see worker.ts. They fail with the core's error codes
 * (core/script-errors.ts), NO_GROUP for a queue that is gone. Files are read
 * once, when this module is first imported.
 */
const load = luaLibrary(new URL('./lua/', import.meta.url), { namePrefix: 'agent-session:observer-', errorCodes: SCRIPT_ERROR_CODES, deadlines: true });

export const BEGIN_RUN = load('beginRun-3');
export const EXTEND_RUN = load('extendRun-2');
export const END_RUN = load('endRun-3');
export const ENSURE_GROUP = load('ensureGroup-1');
export const READ_JOBS = load('readJobs-1');
export const CLAIM_JOBS = load('claimJobs-1');
export const TOUCH_JOB = load('touchJob-1');
export const ACK_JOB = load('ackJob-1');
export const LEAVE_GROUP = load('leaveGroup-1');
