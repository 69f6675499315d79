import { luaLibrary } from '../redis/lua-loader.js';
import { SCRIPT_ERROR_CODES } from './script-errors.js';

/**
 * The Lua scripts behind every agent state operation, one file each in
 * ./lua/ (`<name>-<number of keys>.lua`); the header of each file says what
 * every KEYS[i] and ARGV[i] is, what it returns and how it fails. Helpers
 * shared by several scripts are in ./lua/includes/.
 *
 * Why scripts: an operation checks existence and ownership, changes one or
 * more keys and resets the TTL of the session's keys, and must do so
 * atomically and in one round trip. Two app servers, or an app server and the
 * observer, can write the same session at once; nothing here reads a value
 * into Node and writes it back. Every key of a session shares the `{id}` hash
 * tag, so each of these scripts runs on one Cluster node; the two that touch
 * an observer queue (enqueueObservation, observerBacklog, and the observer's own) touch
 * nothing else.
 *
 * The scripts that act on a session as a whole take its four state keys
 * first, in `stateKeys()` order (meta, turns, tools, observer), and two
 * leading arguments: the caller (the user check) and the TTL to reset the
 * keys to. They refuse with the codes of script-errors.ts. Files are read
 * once, when this module is first imported.
 */
// deadlines: each call's deadline is checked against the Redis clock before the script does anything (redis/lua-deadline.ts).
const load = luaLibrary(new URL('./lua/', import.meta.url), { namePrefix: 'agent-session:', errorCodes: SCRIPT_ERROR_CODES, deadlines: true });

export const CREATE = load('create-5');
export const APPEND_TURN = load('appendTurn-6');
export const READ = load('read-4');
export const UPDATE_META = load('updateMeta-5');
export const START_TOOL_CALL = load('startToolCall-7');
export const FINISH_TOOL_CALL = load('finishToolCall-5');
export const TOUCH = load('touch-4');
export const TOUCH_ALONG = load('touchAlong-5');
export const LOAD_ALONG = load('loadAlong-5');
export const UNTOUCH = load('untouch-4');
export const WRITE_NOTES = load('writeNotes-6');
export const WRITE_OBSERVER_ERROR = load('writeObserverError-5');
export const DELETE = load('delete-10');
export const REQUEST_OBSERVATION = load('requestObservation-5');
export const ENQUEUE_OBSERVATION = load('enqueueObservation-1');
export const CANCEL_OBSERVATION = load('cancelObservation-1');
export const OBSERVER_BACKLOG = load('observerBacklog-1');
export const RESTORE = load('restore-6');
export const ARCHIVE_REGISTER = load('archiveRegister-1');
