/**
 * Vectors as the cache stores them: scaled to unit length, each component
 * rounded to a signed byte (x 127), base64. 256 dimensions take 344 bytes;
 * the cosine of two stored vectors is within about 0.01 of the exact one.
 * Comparison happens in Node, after one read of the candidates, so Redis
 * does no arithmetic.
 */
export type Vector = ArrayLike<number>;

/** The largest vector the cache takes (an `embed` returning more is refused). */
export const MAX_DIMENSIONS = 4096;

export function encodeVector(vector: Vector): string {
  let norm = 0;
  for (let i = 0; i < vector.length; i++) norm += (vector[i] ?? 0) ** 2;
  norm = Math.sqrt(norm);
  const bytes = new Int8Array(vector.length);
  if (norm > 0) for (let i = 0; i < vector.length; i++) bytes[i] = Math.round(((vector[i] ?? 0) / norm) * 127);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

export function decodeVector(text: string): Int8Array {
  const buffer = Buffer.from(text, 'base64');
  return new Int8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** Cosine similarity of two stored vectors; 0 when their lengths differ or one is zero. */
export function cosine(a: Int8Array, b: Int8Array): number {
  if (a.length !== b.length) return 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
