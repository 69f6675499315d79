/**
 * Coded errors from Lua scripts, both ends of the wire in one place. This
 * layer knows the format but not the codes: whoever owns a vocabulary (the
 * core, see core/script-errors.ts) passes its list to the loader, which
 * splices the Lua side into every script, and reads replies back with the
 * same list. So `src/redis` stays free of session knowledge, and the codes
 * are written once, in TypeScript.
 *
 * In a script:
 *
 *   return fail(E.NO_SESSION)          -- error reply "NO_SESSION"
 *   return fail(E.CORRUPT, KEYS[2])    -- error reply "CORRUPT <key>"
 *
 * `E` is a table of the codes. Reading a code that is not in it raises an
 * error on the spot, so a misspelt code fails loudly instead of replying nil.
 * The reply is the code, then an optional detail (a key, a status) after one
 * space; Redis prefixes a reply of one word with "ERR ", which is read past.
 */

const CODE = /^[A-Z][A-Z0-9_]*$/;
const REPLY = /^(?:ERR )?([A-Z][A-Z0-9_]*)(?: ([\s\S]*))?$/;

/** The Lua that defines `E` and `fail` for these codes; the loader puts it at the top of every script. */
export function luaErrorPrelude(codes: readonly string[]): string {
  for (const code of codes) {
    if (!CODE.test(code)) throw new Error(`Script error code "${code}" must be UPPER_SNAKE_CASE (it is a Lua table key and the first word of a reply).`);
  }
  const table = codes.map((code) => `${code} = '${code}'`).join(', ');
  return `-- Error codes, generated from the code list in TypeScript (see src/redis/lua-errors.ts).
local E = setmetatable({ ${table} }, {
  __index = function(_, code) error('unknown script error code ' .. tostring(code), 2) end,
})

-- The reply of a refused operation: a code of E, then an optional detail.
local function fail(code, detail)
  if detail then return redis.error_reply(code .. ' ' .. detail) end
  return redis.error_reply(code)
end`;
}

export interface ScriptFailure<Code extends string> {
  code: Code;
  /** What the script added after the code ('' if nothing). */
  detail: string;
}

/** The code and detail of a script's `fail()` reply; undefined for any other error (Redis's own, a network failure, ...). */
export function parseScriptFailure<Code extends string>(error: unknown, codes: readonly Code[]): ScriptFailure<Code> | undefined {
  if (!(error instanceof Error)) return undefined;
  const match = REPLY.exec(error.message);
  const code = codes.find((candidate) => candidate === match?.[1]);
  if (code === undefined) return undefined;
  return { code, detail: match?.[2] ?? '' };
}
