import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import commands from '@redis/client/dist/lib/commands/index.js';

/**
 * Finds, by reading the source, every Redis command a part of agent-session
 * sends: `redis.call('X', ...)` / `redis.pcall` / `group_call` in Lua (a
 * script's @include files included, and Lua held in TypeScript strings such
 * as the deadline prelude), and node-redis client methods (`client.get(...)`)
 * in TypeScript. The least-privilege test compares what it finds with the
 * documented ACL lines, so a command added later without its line fails.
 */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Where a command is used: `src/core/lua/read-4.lua:12`. */
export type CommandUses = Map<string, string[]>;

/** Commands whose ACL name is `command|subcommand`. */
const CONTAINERS = new Set(['xgroup', 'xinfo', 'config', 'client', 'object', 'memory', 'script', 'cluster', 'function', 'acl']);

const LUA_CALL = /\b(?:redis\.p?call|group_call)\(\s*(['"])([A-Za-z]+)\1\s*(?:,\s*(['"])?([A-Za-z-]+)?\3?)?/g;
const LUA_DYNAMIC = /\bredis\.p?call\(\s*[^'"\s.)]/g;
const INCLUDE = /^--- @include "([^"]+)"/gm;

/** node-redis method name (`pExpire`, `configGet`) to the ACL command name (`pexpire`, `config|get`). */
const METHOD_TO_COMMAND: Map<string, string> = (() => {
  const table = commands as unknown as Record<string, unknown>;
  const upperOf = new Map<unknown, string>();
  for (const [name, definition] of Object.entries(table)) if (/^[A-Z0-9_]+$/.test(name)) upperOf.set(definition, name);
  const map = new Map<string, string>();
  for (const [name, definition] of Object.entries(table)) {
    if (!/^[a-z]/.test(name)) continue;
    const upper = upperOf.get(definition);
    if (!upper) continue;
    const [first = '', second] = upper.toLowerCase().split('_');
    map.set(name, second !== undefined && CONTAINERS.has(first) ? `${first}|${second}` : upper.toLowerCase());
  }
  // Pub/sub subscriptions are client methods, not in node-redis's command table.
  for (const [method, command] of [['subscribe', 'subscribe'], ['unsubscribe', 'unsubscribe'], ['sSubscribe', 'ssubscribe'], ['sUnsubscribe', 'sunsubscribe']]) {
    map.set(method as string, command as string);
  }
  return map;
})();

// A node-redis client (or a cluster node's client) called directly: `client.x(`, `node.x(`, `(await ...nodeClient(m)).x(`.
const CLIENT_CALL = /(?:\bclient|\bnode|\bnodeClient\([^()]*\)\))\s*\.\s*([a-zA-Z]+)\s*\(/g;

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}

function add(uses: CommandUses, command: string, where: string): void {
  const list = uses.get(command) ?? [];
  list.push(where);
  uses.set(command, list);
}

function scanLua(text: string, file: string, uses: CommandUses): void {
  for (const match of text.matchAll(LUA_CALL)) {
    const name = (match[2] ?? '').toLowerCase();
    const sub = match[4]?.toLowerCase();
    const where = `${relative(ROOT, file)}:${lineOf(text, match.index)}`;
    if (CONTAINERS.has(name)) {
      if (!sub || match[3] === undefined) throw new Error(`${where}: ${name.toUpperCase()} is called without a literal subcommand; the ACL check cannot tell which one.`);
      add(uses, `${name}|${sub}`, where);
    } else {
      add(uses, name, where);
    }
  }
  const dynamic = LUA_DYNAMIC.exec(text);
  LUA_DYNAMIC.lastIndex = 0;
  if (dynamic && !file.endsWith('group-call.lua')) {
    throw new Error(`${relative(ROOT, file)}:${lineOf(text, dynamic.index)}: redis.call with a command that is not a string literal; the ACL check cannot see it.`);
  }
}

/** A Lua file and, recursively, the files it includes. */
function luaWithIncludes(file: string, seen = new Set<string>()): string[] {
  if (seen.has(file)) return [];
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  const files = [file];
  for (const match of text.matchAll(INCLUDE)) files.push(...luaWithIncludes(resolve(dirname(file), `${match[1]}.lua`), seen));
  return files;
}

// A raw command: `sendCommand(['XTRIM', key, ...])`.
const SEND_COMMAND = /\bsendCommand\(\s*\[\s*(['"])([A-Za-z]+)\1\s*(?:,\s*(['"])?([A-Za-z-]+)?\3?)?/g;
const SEND_DYNAMIC = /\bsendCommand\(\s*(?!\[\s*['"])/g;

function scanTypeScript(text: string, file: string, uses: CommandUses): void {
  scanLua(text, file, uses); // Lua kept in TypeScript strings (the deadline prelude)
  for (const match of text.matchAll(SEND_COMMAND)) {
    const name = (match[2] ?? '').toLowerCase();
    const where = `${relative(ROOT, file)}:${lineOf(text, match.index)}`;
    if (!CONTAINERS.has(name)) add(uses, name, where);
    else if (match[3] !== undefined && match[4]) add(uses, `${name}|${match[4].toLowerCase()}`, where);
    else throw new Error(`${where}: ${name.toUpperCase()} is sent without a literal subcommand; the ACL check cannot tell which one.`);
  }
  for (const match of text.matchAll(SEND_DYNAMIC)) {
    throw new Error(`${relative(ROOT, file)}:${lineOf(text, match.index)}: sendCommand with a command that is not a literal array; the ACL check cannot see it.`);
  }
  for (const match of text.matchAll(CLIENT_CALL)) {
    const command = METHOD_TO_COMMAND.get(match[1] ?? '');
    if (command === undefined) continue; // connect, close, on, ...: not commands
    add(uses, command, `${relative(ROOT, file)}:${lineOf(text, match.index)}`);
  }
}

/** The commands in one text, as if it were the file `name` (.lua or .ts); for testing the scanner itself. */
export function commandsInText(text: string, name: string): string[] {
  const uses: CommandUses = new Map();
  if (name.endsWith('.lua')) scanLua(text, join(ROOT, name), uses);
  else scanTypeScript(text, join(ROOT, name), uses);
  return [...uses.keys()].sort();
}

function filesUnder(path: string): string[] {
  const full = join(ROOT, path);
  if (!statSync(full).isDirectory()) return [full];
  return readdirSync(full, { recursive: true, encoding: 'utf8' })
    .map((name) => join(full, name))
    .filter((name) => statSync(name).isFile());
}

/** Every command sent by the code at these paths (files or folders under the repository root). */
export function commandsUsedBy(paths: readonly string[]): CommandUses {
  const uses: CommandUses = new Map();
  const seen = new Set<string>();
  for (const file of paths.flatMap(filesUnder)) {
    if (file.endsWith('.ts')) scanTypeScript(readFileSync(file, 'utf8'), file, uses);
    else if (file.endsWith('.lua')) {
      for (const lua of luaWithIncludes(file)) {
        if (seen.has(lua)) continue;
        seen.add(lua);
        scanLua(readFileSync(lua, 'utf8'), lua, uses);
      }
    }
  }
  return uses;
}
