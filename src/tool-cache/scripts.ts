import { SCRIPT_ERROR_CODES } from '../core/script-errors.js';
import { luaLibrary } from '../redis/lua-loader.js';

/**
 * The tool cache's Lua scripts, one file each in ./lua/ (headers say what
 * every KEYS[i] and ARGV[i] is). Every script takes the keys of one tool
 * only, all under the tool's `{<tool>}` hash tag, so each runs on one
 * Cluster node. They count the tool's figures in the same step as the
 * lookup or write they belong to, so the counts hold across processes.
 */
const load = luaLibrary(new URL('./lua/', import.meta.url), { namePrefix: 'agent-session:tool-cache-', errorCodes: SCRIPT_ERROR_CODES, deadlines: true });

export const LOOKUP = load('lookup-6');
export const TAKE = load('take-2');
export const PUT = load('put-6');
export const RELEASE = load('release-1');
export const AUDIT = load('audit-3');
export const STATS = load('stats-1');
