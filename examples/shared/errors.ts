export function errorAnswer(_error: unknown): unknown { throw new Error('not written yet'); }
