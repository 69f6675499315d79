/**
 * The default comparison of a cached result with a fresh one: how much of
 * their content they share, from 0 (nothing) to 1 (the same content).
 *
 * Each result becomes a bag of tokens: every word of every string, and
 * every number, boolean and null, each tagged with its path in the value
 * (object keys, with array positions left out, so that the same items in
 * another order still overlap). The score is the Dice coefficient of the
 * two bags: 2 x shared / (size of one + size of the other). Two empty
 * values score 1.
 */
export function overlapScore(cached: unknown, fresh: unknown): number {
  const a = tokens(cached);
  const b = tokens(fresh);
  let sizeA = 0;
  let sizeB = 0;
  let shared = 0;
  for (const count of a.values()) sizeA += count;
  for (const [token, count] of b) {
    sizeB += count;
    shared += Math.min(count, a.get(token) ?? 0);
  }
  if (sizeA + sizeB === 0) return 1;
  return (2 * shared) / (sizeA + sizeB);
}

function tokens(value: unknown): Map<string, number> {
  const bag = new Map<string, number>();
  const put = (token: string) => bag.set(token, (bag.get(token) ?? 0) + 1);
  const walk = (item: unknown, path: string, depth: number) => {
    if (depth > 64) return;
    if (typeof item === 'string') {
      for (const word of item.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) put(`${path}=${word}`);
    } else if (Array.isArray(item)) {
      for (const element of item) walk(element, `${path}[]`, depth + 1);
    } else if (item !== null && typeof item === 'object') {
      for (const [key, child] of Object.entries(item)) walk(child, `${path}.${key}`, depth + 1);
    } else if (item !== undefined) {
      put(`${path}=${String(item)}`);
    }
  };
  walk(value, '', 0);
  return bag;
}
