/**
 * Prints one Lua script as Redis runs it (includes spliced in, error codes
 * table on top), so that it can be run by hand while debugging:
 *
 *   npm run -s lua -- appendTurn > /tmp/a.lua
 *   redis-cli --eval /tmp/a.lua k1 k2 k3 k4 k5 , 0 '=u' 60000 '' 50 '{"role":"user","content":"hi"}'
 *
 * A script of the store takes the call's deadline as an extra first argument
 * (ms of the Redis clock; 0 for none), before the ARGV its header lists: see
 * src/redis/lua-deadline.ts.
 *
 * The name is the file's (appendTurn, appendTurn-4 or the script's full name,
 * agent-session:append-turn). Line numbers in Redis's error messages refer to
 * this text, not to the file under src/.
 */
import * as coreScripts from '../src/core/scripts.js';
import * as observerScripts from '../src/observer/scripts.js';
import * as toolCacheScripts from '../src/tool-cache/scripts.js';
import type { LuaScript } from '../src/redis/script.js';

const scripts: LuaScript[] = [...Object.values(coreScripts), ...Object.values(observerScripts), ...Object.values(toolCacheScripts)];
const wanted = process.argv[2] ?? '';
const script = scripts.find((candidate) => [candidate.file, candidate.file.replace(/-\d+$/, ''), candidate.name].includes(wanted));

if (!script) {
  const names = scripts.map((candidate) => `  ${candidate.file.padEnd(24)} ${candidate.name}`).join('\n');
  process.stderr.write(`${wanted ? `No script "${wanted}".` : 'Which script?'} Usage: npm run -s lua -- <name>\n${names}\n`);
  process.exitCode = 2;
} else {
  process.stdout.write(`${script.source.trimEnd()}\n`);
  if (script.takesDeadline && process.stderr.isTTY) {
    process.stderr.write('Pass the call deadline first (ms of the Redis clock, 0 for none), then the ARGV the header lists.\n');
  }
}
