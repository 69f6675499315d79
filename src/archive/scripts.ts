import { SCRIPT_ERROR_CODES } from '../core/script-errors.js';
import { luaLibrary } from '../redis/lua-loader.js';

/**
 * The archiver's side of the backlog, one Lua file each in ./lua/ (headers
 * there). The session's scripts (core/lua) push; these read, trim and lease
 * in the session's slot, and walk and prune the index in its own slot; no
 * script touches both.
 */
const load = luaLibrary(new URL('./lua/', import.meta.url), { namePrefix: 'agent-session:archive-', errorCodes: SCRIPT_ERROR_CODES, deadlines: true });

export const DRAIN = load('drain-3');
export const ACK = load('ack-2');
export const RELEASE = load('release-1');
export const PENDING = load('pending-1');
export const FORGET = load('forget-1');
