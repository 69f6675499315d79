import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/errors.js';
import { clientNow, measureRedisClock, recordRedisTime } from '../../src/redis/clock.js';
import { loadLuaScript, luaLibrary } from '../../src/redis/lua-loader.js';
import { runScript } from '../../src/redis/script.js';
import { clientForThisFile } from '../harness/store.js';

/** The Redis layer's Lua loader: file names, includes, and the key count the name promises. */

const client = clientForThisFile();
const root = mkdtempSync(join(tmpdir(), 'agent-session-lua-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Writes Lua files under a fresh directory; returns its URL (with the trailing slash the loader resolves against). */
function luaDir(files: Record<string, string>): URL {
  const dir = mkdtempSync(join(root, 'case-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return pathToFileURL(`${dir}/`);
}

describe('Lua loader', () => {
  it('names a script after its file and reads the key count from the name', () => {
    const dir = luaDir({ 'touchAlong-5.lua': 'return 1', 'anyKeys.lua': 'return #KEYS' });
    const load = luaLibrary(dir, { namePrefix: 'test:' });
    expect(load('touchAlong-5')).toMatchObject({ name: 'test:touch-along', file: 'touchAlong-5', numberOfKeys: 5 });
    expect(load('anyKeys')).toMatchObject({ name: 'test:any-keys', numberOfKeys: undefined });
  });

  it('refuses a file whose name does not follow <camelName>-<keys>.lua', () => {
    const dir = luaDir({ 'Bad_name-2.lua': 'return 1' });
    expect(() => luaLibrary(dir, { namePrefix: '' })('Bad_name-2')).toThrow(/must be named <camelName>-<numberOfKeys>\.lua/);
  });

  it('splices includes relative to the including file, each once, and the result runs on Redis', async () => {
    // a diamond: the script includes two helpers that both include `base`
    const dir = luaDir({
      'sum-1.lua': '--- @include "lib/twice"\n--- @include "lib/thrice"\nreturn twice(base()) + thrice(base())',
      'lib/twice.lua': '--- @include "base"\nlocal function twice(x) return 2 * x end',
      'lib/thrice.lua': '--- @include "base"\nlocal function thrice(x) return 3 * x end',
      'lib/base.lua': 'local function base() return tonumber(ARGV[1]) end',
    });
    const script = luaLibrary(dir, { namePrefix: '' })('sum-1');
    expect(script.source.match(/local function base/g)).toHaveLength(1);
    expect(script.source).not.toMatch(/@include/);
    expect(await runScript(client, script, ['any'], [7], 2_000)).toBe(35);
  });

  it('reports an include cycle with the chain of files', () => {
    const dir = luaDir({ 'loop-0.lua': '--- @include "a"\nreturn 1', 'a.lua': '--- @include "b"', 'b.lua': '--- @include "a"' });
    expect(() => loadLuaScript(new URL('loop-0.lua', dir), { namePrefix: '' })).toThrow(/include cycle: .*loop-0\.lua -> .*a\.lua -> .*b\.lua -> .*a\.lua/);
  });

  it('reports a missing include with the file that asked for it', () => {
    const dir = luaDir({ 'lost-0.lua': '--- @include "helpers/nowhere"\nreturn 1' });
    expect(() => loadLuaScript(new URL('lost-0.lua', dir), { namePrefix: '' })).toThrow(/Cannot read Lua file .*helpers\/nowhere\.lua \(included from .*lost-0\.lua\)/);
  });
});

describe('runScript and the key count in the file name', () => {
  const dir = luaDir({ 'keyCount-2.lua': "redis.call('INCR', KEYS[1])\nreturn #KEYS", 'anyKeys.lua': 'return #KEYS' });
  const load = luaLibrary(dir, { namePrefix: 'test:' });
  const counter = `lua-loader:${process.pid}:${Date.now()}`;

  it('refuses a call with another number of keys, before anything is sent', async () => {
    await expect(runScript(client, load('keyCount-2'), [counter], [], 2_000)).rejects.toThrow(
      'agent-session internal error: script test:key-count (keyCount-2.lua) takes 2 keys but was called with 1.',
    );
    await expect(runScript(client, load('keyCount-2'), [counter, 'k2', 'k3'], [], 2_000)).rejects.toThrow(/takes 2 keys but was called with 3/);
    expect(await client.get(counter)).toBeNull();
  });

  it('runs a call with the declared number, and any number for a script without one', async () => {
    expect(await runScript(client, load('keyCount-2'), [counter, 'k2'], [], 2_000)).toBe(2);
    expect(await client.get(counter)).toBe('1');
    await client.del(counter);
    expect(await runScript(client, load('anyKeys'), ['k1', 'k2', 'k3'], [], 2_000)).toBe(3);
  });
});

describe('call deadlines (a library loaded with deadlines: true)', () => {
  const codes = ['DEADLINE'];
  const load = () => luaLibrary(luaDir({ 'push-1.lua': "redis.call('RPUSH', KEYS[1], ARGV[1]); return ARGV[1]" }), { namePrefix: 'test:', errorCodes: codes, deadlines: true })('push-1');

  it('needs DEADLINE among the error codes', () => {
    const dir = luaDir({ 'push-1.lua': 'return 1' });
    expect(() => luaLibrary(dir, { namePrefix: '', errorCodes: ['OTHER'], deadlines: true })('push-1')).toThrow(/need 'DEADLINE' in their errorCodes/);
  });

  it("takes the deadline off ARGV, so the script's own ARGV[1] is the caller's first argument", async () => {
    const key = `deadline:${Date.now()}:own`;
    await measureRedisClock(client);
    expect(await runScript(client, load(), [key], ['first'], 2_000)).toBe('first');
    expect(await client.lRange(key, 0, -1)).toEqual(['first']);
  });

  it('refuses, writing nothing, once the Redis clock is past the deadline; runScript turns that into StoreUnavailableError', async () => {
    const key = `deadline:${Date.now()}:late`;
    const script = load();
    // By hand, as a frozen Redis would run it after the caller gave up: a deadline long past.
    await expect(client.evalSha(script.sha1, { keys: [key], arguments: ['1', 'late'] }).catch(async (error: unknown) => {
      if (error instanceof Error && error.message.startsWith('NOSCRIPT')) return client.eval(script.source, { keys: [key], arguments: ['1', 'late'] });
      throw error;
    })).rejects.toThrow(/^(ERR )?DEADLINE$/);
    expect(await client.exists(key)).toBe(0);
    // Through runScript: a Redis clock estimated an hour behind its real time puts every deadline in the past.
    recordRedisTime(client, [String(Math.floor(Date.now() / 1_000) - 3_600), '0'], clientNow(), clientNow());
    await expect(runScript(client, script, [key], ['late'], 2_000)).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(await client.exists(key)).toBe(0);
    await measureRedisClock(client);
  });
});
