import { readFileSync } from 'node:fs';
import { DEADLINE_CODE, luaDeadlinePrelude } from './lua-deadline.js';
import { luaErrorPrelude } from './lua-errors.js';
import { defineScript, type LuaScript } from './script.js';

/**
 * Lua scripts as files, the way BullMQ keeps its commands: one script per
 * file, named `<camelName>-<numberOfKeys>.lua` (a name without the number
 * takes a variable number of keys), with a header saying what each KEYS[i]
 * and ARGV[i] is. Helpers shared by several scripts are include files, pulled
 * in by a line of its own:
 *
 *   --- @include "includes/guard"
 *
 * The path is relative to the file that includes it, without ".lua". The line
 * is replaced by the file's text (its own includes spliced the same way);
 * each file is spliced at most once per script, so helpers may include what
 * they need without worrying about who else did, and a cycle is an error.
 *
 * Files are read once, when the module that defines the scripts is first
 * imported: a missing or broken file fails at start-up, not on first use.
 * The assembled text is what Redis runs and what its error messages' line
 * numbers refer to; `npm run lua -- <name>` prints it.
 *
 * With `errorCodes`, every script starts with a Lua table of those codes and
 * a `fail(code, detail)` helper (see lua-errors.ts): the list is the
 * caller's, so the codes are written once, in TypeScript.
 */
export interface LuaLibraryOptions {
  /** Prefix of each script's name ('agent-session:' turns appendTurn-4.lua into 'agent-session:append-turn'). */
  namePrefix: string;
  /** The codes this library's scripts may `fail()` with; spliced at the top of each as the table `E`. */
  errorCodes?: readonly string[];
  /**
   * Every script takes the call's deadline as an extra first argument and
   * refuses with DEADLINE once the Redis clock is past it (lua-deadline.ts);
   * `runScript` supplies it. Needs `errorCodes` with 'DEADLINE' in it.
   */
  deadlines?: boolean;
}

/** A loader for the scripts of one directory: `load('appendTurn-4')` reads and assembles `<dir>/appendTurn-4.lua`. */
export function luaLibrary(dir: URL, options: LuaLibraryOptions): (file: string) => LuaScript {
  return (file) => loadLuaScript(new URL(`${file}.lua`, dir), options);
}

const FILE_NAME = /^([a-z][A-Za-z0-9]*)(?:-(\d+))?\.lua$/;
const INCLUDE_LINE = /^---[ \t]*@include[ \t]+"([^"]+)"[ \t]*$/gm;

export function loadLuaScript(url: URL, options: LuaLibraryOptions): LuaScript {
  const base = url.pathname.slice(url.pathname.lastIndexOf('/') + 1);
  const parts = FILE_NAME.exec(base);
  if (!parts) throw new Error(`Lua script file "${base}" must be named <camelName>-<numberOfKeys>.lua (or <camelName>.lua for a variable number of keys).`);
  const [, camelName = '', keys] = parts;
  const name = options.namePrefix + camelName.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
  const body = splice(url, new Set([url.href]), [url.href]);
  if (options.deadlines && !options.errorCodes?.includes(DEADLINE_CODE)) {
    throw new Error(`Lua scripts with deadlines need '${DEADLINE_CODE}' in their errorCodes (the code a script past its deadline fails with).`);
  }
  const preludes = [options.errorCodes ? luaErrorPrelude(options.errorCodes) : '', options.deadlines ? luaDeadlinePrelude() : ''].filter(Boolean);
  const source = [...preludes, body].join('\n\n');
  return defineScript(name, source, {
    file: base.slice(0, -'.lua'.length),
    numberOfKeys: keys === undefined ? undefined : Number(keys),
    takesDeadline: options.deadlines === true,
  });
}

/** `url`'s text with its include lines replaced; `included` is shared by the whole script, `stack` is the chain of includes that led here. */
function splice(url: URL, included: Set<string>, stack: string[]): string {
  return read(url, stack).replace(INCLUDE_LINE, (_line, reference: string) => {
    const target = new URL(`${reference}.lua`, url);
    if (stack.includes(target.href)) {
      throw new Error(`Lua include cycle: ${[...stack, target.href].map(shortName).join(' -> ')}`);
    }
    if (included.has(target.href)) return `-- (${reference}: included above)`;
    included.add(target.href);
    const text = splice(target, included, [...stack, target.href]).trimEnd();
    return `-- >>> ${reference}\n${text}\n-- <<< ${reference}`;
  });
}

function read(url: URL, stack: string[]): string {
  try {
    return readFileSync(url, 'utf8');
  } catch (error) {
    const from = stack.length > 1 ? ` (included from ${shortName(stack[stack.length - 2] ?? '')})` : '';
    throw new Error(`Cannot read Lua file ${url.pathname}${from}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** The last two path segments, enough to tell files apart in an error. */
function shortName(href: string): string {
  return href.split('/').slice(-2).join('/');
}
