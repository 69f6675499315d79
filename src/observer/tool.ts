import { InvalidInputError } from '../errors.js';
import type { NotesQuery, NotesResult } from '../core/types.js';

/**
 * `get_observer_notes` for primary agents that use LLM tool calling: the
 * definition to offer the model and the handler to answer its calls with.
 *
 *   OpenAI:    tools: [{ type: 'function', function: observerNotesTool }]
 *              or, with strict function calling: tools: [{ type: 'function', function: observerNotesToolStrict }]
 *   Anthropic: tools: [{ name, description, input_schema: parameters }] from observerNotesTool
 *   then:      JSON.stringify(await handleObserverNotesTool(req.agent, call.arguments))
 */

/** A JSON Schema as tool-calling APIs take it. */
export interface JsonSchema {
  /** One type, or several (`['integer', 'null']`: a nullable integer, as OpenAI's strict mode writes an optional field). */
  type?: string | readonly string[];
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: readonly string[];
  additionalProperties?: boolean;
  minimum?: number;
}

export interface ToolDefinition {
  name: string;
  description: string;
  parameters: JsonSchema;
  /** OpenAI: `true` makes the model's arguments always match `parameters` (structured outputs). */
  strict?: boolean;
}

export const observerNotesTool = {
  name: 'get_observer_notes',
  description:
    "Read the background observer's notes on this conversation (its analysis of the turns so far, such as a summary, " +
    'the user intent and open questions) and how fresh they are. The observer runs behind the conversation, so the ' +
    'notes can lag: the result has ready (false until the first analysis), notes, coversThroughSeq (the last turn ' +
    'they cover), lagTurns (turns since then), ageMs, and stale (true when older than maxAgeMs or missing more than ' +
    'maxLagTurns turns). Pass the tolerances you need; leave them out to accept any staleness.',
  parameters: {
    type: 'object',
    properties: {
      maxAgeMs: {
        type: 'integer',
        minimum: 0,
        description: 'Notes written longer ago than this many milliseconds count as stale.',
      },
      maxLagTurns: {
        type: 'integer',
        minimum: 0,
        description: 'Notes that miss more than this many of the latest turns count as stale.',
      },
    },
    additionalProperties: false,
  },
} as const satisfies ToolDefinition;

/**
 * The same tool for OpenAI's strict function calling (`strict: true`), whose
 * schema rules are: every property listed in `required`, an optional one
 * written as nullable instead (`null` means "left out", which
 * `handleObserverNotesTool` accepts), and `additionalProperties: false` on
 * every object. The model then always sends both fields, `null` for "any
 * staleness".
 */
export const observerNotesToolStrict = {
  name: observerNotesTool.name,
  description: `${observerNotesTool.description} Pass null for a tolerance you do not need.`,
  strict: true,
  parameters: {
    type: 'object',
    properties: {
      maxAgeMs: { ...observerNotesTool.parameters.properties.maxAgeMs, type: ['integer', 'null'] },
      maxLagTurns: { ...observerNotesTool.parameters.properties.maxLagTurns, type: ['integer', 'null'] },
    },
    required: ['maxAgeMs', 'maxLagTurns'],
    additionalProperties: false,
  },
} as const satisfies ToolDefinition;

/** Anything with `notes()`: an `AgentSession`, or `req.agent` / `ctx.agent` from the middleware. */
export interface NotesReader {
  notes<T = unknown>(query?: NotesQuery): Promise<NotesResult<T>>;
}

/**
 * Answers a `get_observer_notes` call: the same JSON as `session.notes()`.
 * `args` may be the parsed arguments or the JSON string a model API hands
 * over; invalid arguments raise `InvalidInputError` with a message meant to
 * be shown to the model so that it can correct the call.
 */
export async function handleObserverNotesTool<T = unknown>(session: NotesReader, args: unknown): Promise<NotesResult<T>> {
  return session.notes<T>(notesQuery(args));
}

function notesQuery(args: unknown): NotesQuery {
  let value = args;
  if (typeof value === 'string') {
    if (value.trim() === '') return {};
    try {
      value = JSON.parse(value);
    } catch {
      throw new InvalidInputError('get_observer_notes: the arguments are not valid JSON; pass an object such as {"maxLagTurns": 2}.');
    }
  }
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidInputError('get_observer_notes: the arguments must be an object such as {"maxAgeMs": 60000, "maxLagTurns": 2}.');
  }
  const query: NotesQuery = {};
  for (const name of ['maxAgeMs', 'maxLagTurns'] as const) {
    const bound = (value as Record<string, unknown>)[name];
    if (bound === undefined || bound === null) continue;
    if (typeof bound !== 'number' || !Number.isSafeInteger(bound) || bound < 0) {
      throw new InvalidInputError(`get_observer_notes: ${name} must be a whole number >= 0, or left out.`);
    }
    query[name] = bound;
  }
  return query;
}
