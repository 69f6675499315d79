import { describe, expect, it } from 'vitest';
import { handleObserverNotesTool, observerNotesTool, observerNotesToolStrict, type JsonSchema } from 'agent-session/observer';

/**
 * OpenAI's strict function calling (structured outputs) accepts a schema
 * only if every object lists all its properties in `required` and has
 * `additionalProperties: false`; an optional field is written as nullable.
 * These are checked on the whole schema, so a field added later cannot
 * break the strict variant unnoticed.
 */
function strictModeViolations(schema: JsonSchema, path = 'parameters'): string[] {
  const found: string[] = [];
  const types = schema.type === undefined ? [] : typeof schema.type === 'string' ? [schema.type] : [...schema.type];
  if (types.length === 0) found.push(`${path}: no type`);
  if (types.includes('object')) {
    if (schema.additionalProperties !== false) found.push(`${path}: additionalProperties is not false`);
    const properties = Object.keys(schema.properties ?? {});
    const required = [...(schema.required ?? [])];
    if (properties.length === 0) found.push(`${path}: an object without properties`);
    for (const name of properties) if (!required.includes(name)) found.push(`${path}.${name}: not required`);
    for (const name of required) if (!properties.includes(name)) found.push(`${path}: requires unknown ${name}`);
    for (const [name, property] of Object.entries(schema.properties ?? {})) found.push(...strictModeViolations(property, `${path}.${name}`));
  }
  return found;
}

describe('observerNotesToolStrict: the tool for OpenAI strict function calling', () => {
  it('follows every strict-mode rule, with strict: true', () => {
    expect(observerNotesToolStrict.strict).toBe(true);
    expect(strictModeViolations(observerNotesToolStrict.parameters)).toEqual([]);
  });

  it('the plain tool is not strict-mode valid (its fields are optional), which is why the variant exists', () => {
    expect(strictModeViolations(observerNotesTool.parameters)).toEqual([
      'parameters.maxAgeMs: not required',
      'parameters.maxLagTurns: not required',
    ]);
  });

  it('has the same name and fields, each optional one nullable', () => {
    expect(observerNotesToolStrict.name).toBe(observerNotesTool.name);
    expect(Object.keys(observerNotesToolStrict.parameters.properties)).toEqual(Object.keys(observerNotesTool.parameters.properties));
    for (const property of Object.values(observerNotesToolStrict.parameters.properties)) {
      expect(property.type).toEqual(['integer', 'null']);
    }
    expect(JSON.parse(JSON.stringify(observerNotesToolStrict))).toEqual(observerNotesToolStrict);
  });

  it("the handler takes a strict model's arguments: null means any staleness", async () => {
    const queries: unknown[] = [];
    const reader = { notes: async (query?: unknown) => (queries.push(query), { ready: false }) as never };
    await handleObserverNotesTool(reader, '{"maxAgeMs":null,"maxLagTurns":2}');
    await handleObserverNotesTool(reader, { maxAgeMs: null, maxLagTurns: null });
    expect(queries).toEqual([{ maxLagTurns: 2 }, {}]);
  });
});
