import { ConfigError } from '../errors.js';
import { wholeNumber } from '../options.js';

/**
 * A small deterministic embedder for near-duplicate matching without a
 * model: the text's words and their character trigrams, hashed (FNV-1a)
 * into a fixed number of signed buckets. Two texts are close when they share
 * most of their words and spellings.
 *
 * What it matches: the same words in another order, another case or
 * punctuation, a typo or two, a plural, a word added or left out of a
 * longer query ("weather in paris today" / "paris weather today?").
 *
 * What it cannot match: synonyms and paraphrases ("cheap flights" /
 * "inexpensive airfare"), another language, and it does not understand
 * negation or numbers ("flights to paris" / "no flights to paris" are close;
 * "order 1234" / "order 1243" are close too). Use a threshold high enough
 * for your tool, or an `embed` backed by a real embedding model.
 *
 * It is pure and synchronous: the same text gives the same vector in every
 * process and every version of this library that keeps these rules.
 */
export interface LexicalEmbedderOptions {
  /** Buckets of the vector. Default 256; 64 to 4096. */
  dimensions?: number | undefined;
}

export function lexicalEmbedder(options: LexicalEmbedderOptions = {}): (text: string) => Float32Array {
  if (typeof options !== 'object' || options === null) throw new ConfigError('lexicalEmbedder() takes an options object, e.g. { dimensions: 256 }.');
  const dimensions = wholeNumber('dimensions', options.dimensions, 256, { min: 64, max: 4096 });
  return (text: string) => {
    const vector = new Float32Array(dimensions);
    const words = String(text).toLowerCase().normalize('NFKC').match(/[\p{L}\p{N}]+/gu) ?? [];
    for (const word of words) {
      add(vector, `w:${word}`, 1);
      const padded = ` ${word} `;
      for (let i = 0; i + 3 <= padded.length; i++) add(vector, `g:${padded.slice(i, i + 3)}`, 0.5);
    }
    return vector;
  };
}

function add(vector: Float32Array, token: string, weight: number): void {
  let hash = 0x811c9dc5;
  for (let i = 0; i < token.length; i++) {
    hash ^= token.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  const index = hash % vector.length;
  // One bit of the hash as a sign, so that colliding tokens cancel out rather than add up.
  vector[index] = (vector[index] ?? 0) + (hash & 0x80000000 ? -weight : weight);
}
