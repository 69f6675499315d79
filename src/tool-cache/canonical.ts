import { InvalidInputError } from '../errors.js';

/**
 * Exact equivalence of tool arguments: two calls are the same call when
 * their arguments, normalised by the tool's rules, have the same canonical
 * JSON. Canonical JSON sorts object keys at every depth (key order never
 * matters) and drops keys whose value is `undefined` (as JSON.stringify
 * does). The tool's rules then say what else does not matter:
 *
 * - `whitespace: 'collapse'`: in every string, leading and trailing
 *   whitespace is dropped and runs of whitespace are one space;
 * - `lowercase: true` (every string) or a list of argument names (those
 *   top-level arguments' strings, at any depth below them);
 * - or a function of the tool's own, which gets the arguments and returns
 *   what to compare (canonical JSON is taken of its result).
 */
export interface NormalizeRules {
  whitespace?: 'keep' | 'collapse' | undefined;
  lowercase?: boolean | readonly string[] | undefined;
}

export type Normalize = NormalizeRules | ((args: unknown) => unknown);

/** The canonical JSON of `args` under the rules; `InvalidInputError` for what JSON cannot hold. */
export function canonicalArgs(args: unknown, normalize: Normalize | undefined): string {
  const value = typeof normalize === 'function' ? normalize(args) : args;
  const rules = typeof normalize === 'function' ? {} : (normalize ?? {});
  return JSON.stringify(canonical(value, rules, rules.lowercase === true, 0));
}

/** One string as the rules make it: the same rules the canonical JSON applies. */
export function normalizeText(text: string, rules: NormalizeRules, lowercase: boolean): string {
  let out = rules.whitespace === 'collapse' ? text.trim().replace(/\s+/g, ' ') : text;
  if (lowercase) out = out.toLowerCase();
  return out;
}

const MAX_DEPTH = 64;

function canonical(value: unknown, rules: NormalizeRules, lowercase: boolean, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new InvalidInputError(`Tool arguments nest deeper than ${MAX_DEPTH} levels.`);
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InvalidInputError('Tool arguments must be JSON: a number is not finite.');
    return value;
  }
  if (typeof value === 'string') return normalizeText(value, rules, lowercase);
  if (Array.isArray(value)) return value.map((item) => canonical(item === undefined ? null : item, rules, lowercase, depth + 1));
  if (typeof value === 'object') {
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return canonical(JSON.parse(JSON.stringify(value)), rules, lowercase, depth + 1);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const item = (value as Record<string, unknown>)[key];
      if (item === undefined) continue;
      const lower = lowercase || (depth === 0 && Array.isArray(rules.lowercase) && rules.lowercase.includes(key));
      out[key] = canonical(item, rules, lower, depth + 1);
    }
    return out;
  }
  throw new InvalidInputError(`Tool arguments must be JSON: a ${typeof value} is not.`);
}
