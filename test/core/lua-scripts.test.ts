import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { sessionKeys, stateKeys } from '../../src/core/keys.js';
import * as coreScripts from '../../src/core/scripts.js';
import * as observerScripts from '../../src/observer/scripts.js';
import * as toolCacheScripts from '../../src/tool-cache/scripts.js';
import { DEADLINE_CODE } from '../../src/redis/lua-deadline.js';
import type { LuaScript } from '../../src/redis/script.js';
import { clientForThisFile, uniquePrefix } from '../harness/store.js';

/**
 * The script files keep their promises: every file is a script the code
 * runs, and its header declares exactly the keys its name counts, every
 * KEYS[i] / ARGV[i] its code (includes spliced in) reads, and every error
 * code it can fail with.
 */

const DIRS = [
  { dir: new URL('../../src/core/lua/', import.meta.url), scripts: coreScripts },
  { dir: new URL('../../src/observer/lua/', import.meta.url), scripts: observerScripts },
  { dir: new URL('../../src/tool-cache/lua/', import.meta.url), scripts: toolCacheScripts },
];

const FILES = DIRS.flatMap(({ dir, scripts }) => {
  const byFile = new Map(Object.values(scripts as Record<string, LuaScript>).map((script) => [script.file, script]));
  return readdirSync(dir)
    .filter((name) => name.endsWith('.lua'))
    .map((name) => ({ name, text: readFileSync(new URL(name, dir), 'utf8'), script: byFile.get(name.slice(0, -'.lua'.length)) }));
});

/** The code without comments: the header's words must not count as uses. */
function code(source: string): string {
  return source.replace(/--\[\[[\s\S]*?\]\]/g, '').replace(/--.*$/gm, '');
}

/** The KEYS / ARGV entries a header declares: lines that start with `KEYS[3]`, `ARGV[3..]`, `ARGV[4 .. 3+2n]`. */
function declared(header: string, table: 'KEYS' | 'ARGV'): { indices: number[]; openFrom: number } {
  const indices: number[] = [];
  let openFrom = Infinity;
  for (const [, index, rest = ''] of header.matchAll(new RegExp(`^\\s*${table}\\[(\\d+)([^\\]]*)\\]`, 'gm'))) {
    indices.push(Number(index));
    if (rest.includes('..')) openFrom = Math.min(openFrom, Number(index));
  }
  // `ARGV[4 .. 3+2n]` and `ARGV[4+2n ..]` both start at 4: one index, open-ended.
  return { indices: [...new Set(indices)], openFrom };
}

function used(source: string, table: 'KEYS' | 'ARGV'): { indices: number[]; unpackFrom: number | undefined } {
  const body = code(source);
  const indices = [...body.matchAll(new RegExp(`${table}\\[(\\d+)\\]`, 'g'))].map((match) => Number(match[1]));
  const unpack = new RegExp(`unpack\\(${table}(?:, (\\d+))?`).exec(body);
  return { indices: [...new Set(indices)].sort((a, b) => a - b), unpackFrom: unpack ? Number(unpack[1] ?? 1) : undefined };
}

describe('Lua script files', () => {
  it('are all found (the checks below are not vacuous)', () => {
    expect(FILES.map((file) => file.name)).toEqual(expect.arrayContaining(['appendTurn-6.lua', 'delete-10.lua', 'beginRun-3.lua']));
    expect(FILES.length).toBe(34);
  });

  it.each(FILES.map((file) => [file.name, file] as const))('%s is a script the code runs', (_name, file) => {
    expect(file.script).toBeDefined();
  });

  it.each(FILES.map((file) => [file.name, file] as const))('%s declares every key and argument it reads', (_name, { text, script }) => {
    const header = /^--\[\[([\s\S]*?)\]\]/.exec(text)?.[1];
    expect(header, 'a header comment at the top of the file').toBeDefined();
    expect(header).toMatch(/Returns\b/);

    const keys = declared(header ?? '', 'KEYS');
    const numberOfKeys = script?.numberOfKeys ?? -1;
    // Exactly KEYS[1] .. KEYS[n], n from the file name.
    expect(keys.indices).toEqual(Array.from({ length: numberOfKeys }, (_, i) => i + 1));
    const keysUsed = used(script?.source ?? '', 'KEYS');
    for (const index of keysUsed.indices) expect(index).toBeLessThanOrEqual(numberOfKeys);
    // The session scripts' helpers read the four state keys (refresh loops over KEYS[1..4]).
    if (/\brefresh\(\)/.test(code(script?.source ?? ''))) expect(numberOfKeys).toBeGreaterThanOrEqual(4);

    const args = declared(header ?? '', 'ARGV');
    // ARGV[1] .. ARGV[k], none skipped.
    expect([...args.indices].sort((a, b) => a - b)).toEqual(Array.from({ length: args.indices.length }, (_, i) => i + 1));
    const argsUsed = used(script?.source ?? '', 'ARGV');
    for (const index of argsUsed.indices) expect(args.indices.includes(index) || index >= args.openFrom, `ARGV[${index}]`).toBe(true);
    if (argsUsed.unpackFrom !== undefined) expect(args.openFrom).toBeLessThanOrEqual(argsUsed.unpackFrom);

    const codes = new Set([...code(script?.source ?? '').matchAll(/\bE\.([A-Z_]+)/g)].map((match) => match[1] ?? ''));
    // DEADLINE is the loader's prelude's (redis/lua-deadline.ts), documented there, not in each header.
    codes.delete(DEADLINE_CODE);
    for (const failure of codes) expect(header, `error code ${failure}`).toMatch(new RegExp(`\\b${failure}\\b`));
  });
});

describe('session events (includes/events.lua)', () => {
  // The scripts that change a session; reads and touches (activity, not a change) publish nothing.
  const PUBLISHING = ['create-5', 'appendTurn-6', 'updateMeta-5', 'startToolCall-7', 'finishToolCall-5', 'writeNotes-6', 'writeObserverError-5', 'requestObservation-5', 'delete-10', 'restore-6'];

  it.each(FILES.map((file) => [file.name, file] as const))('%s publishes an event if and only if it changes a session', (name, { text }) => {
    const publishes = PUBLISHING.includes(name.slice(0, -'.lua'.length));
    expect(code(text).includes('publish_event(')).toBe(publishes);
    // Its header says which argument turns events on and where they go.
    if (publishes) expect(/^--\[\[([\s\S]*?)\]\]/.exec(text)?.[1]).toMatch(/ARGV\[\d+\] events: .*\n.*includes\/events/);
  });
});

describe('a script printed by `npm run lua` runs with redis-cli --eval', () => {
  const run = promisify(execFile);
  const repo = fileURLToPath(new URL('../../', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'agent-session-lua-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const client = clientForThisFile();

  /** What `npm run -s lua -- <name>` prints (the same script, without npm's start-up), saved to a file. */
  async function printed(name: string): Promise<string> {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/print-lua.ts', name], { cwd: repo });
    const file = join(dir, `${name}.lua`);
    writeFileSync(file, stdout);
    return file;
  }

  /** redis-cli --eval <file> keys , deadline args, against the test server; its stdout, one reply element per line. The call deadline comes first: 0 for none. */
  async function evalByHand(file: string, keys: string[], args: string[], deadline = '0'): Promise<string[]> {
    const { stdout } = await run('redis-cli', ['-u', inject('redisUrl'), '--eval', file, ...keys, ',', deadline, ...args]);
    return stdout.trim().split('\n');
  }

  it('creates a session and appends a turn, as the library would have', async () => {
    const [create, appendTurn] = await Promise.all([printed('create'), printed('appendTurn')]);
    const keyPrefix = uniquePrefix();
    const sessionKeyNames = sessionKeys(keyPrefix, 'by-hand');
    const keys = [...stateKeys(sessionKeyNames), sessionKeyNames.archive];
    const appendKeys = [...keys, sessionKeyNames.idem];

    const [createdAt] = await evalByHand(create, keys, ['', '60000', '', '', 'userId', 'u']);
    expect(Number(createdAt)).toBeGreaterThan(0);
    const reply = await evalByHand(appendTurn, appendKeys, ['=u', '60000', '', '50', JSON.stringify({ role: 'user', content: 'typed by hand' }), '', '60000:10', '']);
    expect(reply).toEqual(['1', expect.stringMatching(/^\d+$/)]);

    expect(await client.lRange(keys[1]!, 0, -1)).toEqual([`{"seq":1,"ts":${reply[1]},"role":"user","content":"typed by hand"}`]);
    expect(await client.hGet(keys[0]!, 'turnCount')).toBe('1');
    // A refusal reads as the script's error reply.
    expect(await evalByHand(appendTurn, appendKeys, ['=mallory', '60000', '', '50', '{"role":"user","content":"x"}', '', '60000:10', ''])).toEqual([
      expect.stringMatching(/^(ERR )?USER_MISMATCH$/),
    ]);
    // A call past its deadline (ms of the Redis clock; 1 is long past) writes nothing.
    const late = await evalByHand(appendTurn, keys, ['=u', '60000', '', '50', '{"role":"user","content":"too late"}'], '1');
    expect(late).toEqual([expect.stringMatching(/^(ERR )?DEADLINE$/)]);
    expect(await client.lLen(keys[1]!)).toBe(1);
    expect(await client.hGet(keys[0]!, 'turnCount')).toBe('1');
  });
});
