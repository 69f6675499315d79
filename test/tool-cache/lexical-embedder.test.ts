import { describe, expect, it } from 'vitest';
import { ConfigError } from 'agent-session';
import { lexicalEmbedder } from 'agent-session/tool-cache';
import { cosine, decodeVector, encodeVector } from '../../src/tool-cache/vectors.js';

/** The deterministic embedder: what it matches, what it cannot, and that it is the same everywhere. */
const embed = lexicalEmbedder();
const similarity = (a: string, b: string) => cosine(decodeVector(encodeVector(embed(a))), decodeVector(encodeVector(embed(b))));

describe('lexicalEmbedder', () => {
  it('is deterministic: the same text, the same vector', () => {
    expect(Array.from(embed('Weather in Paris'))).toEqual(Array.from(lexicalEmbedder()('Weather in Paris')));
    expect(embed('x')).toHaveLength(256);
    expect(lexicalEmbedder({ dimensions: 64 })('x')).toHaveLength(64);
    expect(() => lexicalEmbedder({ dimensions: 3 })).toThrow(ConfigError);
  });

  it('matches reordering, case, punctuation, a typo, a plural', () => {
    expect(similarity('weather in Paris today', 'Paris weather today?')).toBeGreaterThan(0.8);
    expect(similarity('weather in Paris today', 'WEATHER IN PARIS TODAY')).toBeCloseTo(1, 2);
    expect(similarity('restaurants near the station', 'restaurant near the station')).toBeGreaterThan(0.8);
    expect(similarity('weather in Paris today', 'wether in Paris today')).toBeGreaterThan(0.8);
  });

  it('cannot match synonyms; does not understand negation or numbers', () => {
    expect(similarity('cheap flights to Rome', 'inexpensive airfare to Rome')).toBeLessThan(0.6);
    expect(similarity('train tickets to Berlin', 'weather in Paris today')).toBeLessThan(0.3);
    // The limits, stated: these are close though they mean different things.
    expect(similarity('flights to Paris', 'no flights to Paris')).toBeGreaterThan(0.8);
    expect(similarity('status of order 1234', 'status of order 1243')).toBeGreaterThan(0.7);
  });

  it('stored vectors (int8) keep the cosine within 0.01', () => {
    const pairs = [['weather in Paris today', 'Paris weather today?'], ['cheap flights', 'inexpensive airfare'], ['a b c', 'a b d']] as const;
    for (const [a, b] of pairs) {
      const x = embed(a);
      const y = embed(b);
      let dot = 0, nx = 0, ny = 0;
      for (let i = 0; i < x.length; i++) {
        dot += x[i]! * y[i]!;
        nx += x[i]! ** 2;
        ny += y[i]! ** 2;
      }
      expect(Math.abs(similarity(a, b) - dot / Math.sqrt(nx * ny))).toBeLessThan(0.01);
    }
  });
});
