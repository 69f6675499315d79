import OpenAI from 'openai';
import type { ChatCompletionFunctionTool, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { InvalidInputError } from 'agent-session';
import type { RequestAgent } from 'agent-session/express';
import { handleObserverNotesTool, observerNotesToolStrict } from 'agent-session/observer';

/**
 * The example's agent loop with a real model (OpenAI's chat completions,
 * through the official SDK), used by the Express example when
 * OPENAI_API_KEY is set; without it the example keeps its scripted agent.
 * Every step goes through `req.agent`: the user turn, each tool call the
 * model makes (started before the tool runs, completed or failed after),
 * and the reply. The model is offered the observer's notes as a tool
 * (`get_observer_notes`, strict) and a small tool of the app's own.
 */
export type ModelChat = (agent: RequestAgent, message: string, messageId?: string) => Promise<{ reply: string; turnCount: number }>;

/** A chat function backed by OpenAI when OPENAI_API_KEY is set (OPENAI_BASE_URL and OPENAI_MODEL are honoured), else undefined. */
export function modelChatFromEnvironment(env: NodeJS.ProcessEnv): ModelChat | undefined {
  if (!env.OPENAI_API_KEY) return undefined;
  const client = new OpenAI({ apiKey: env.OPENAI_API_KEY, ...(env.OPENAI_BASE_URL ? { baseURL: env.OPENAI_BASE_URL } : {}), maxRetries: 1 });
  const model = env.OPENAI_MODEL ?? 'gpt-4o-mini';
  return (agent, message, messageId) => chatWithModel(client, model, agent, message, messageId);
}

const countWordsTool = {
  type: 'function',
  function: {
    name: 'count_words',
    description: 'Counts the words of a text and finds the longest one.',
    strict: true,
    parameters: {
      type: 'object',
      properties: { text: { type: 'string', description: 'The text to count.' } },
      required: ['text'],
      additionalProperties: false,
    },
  },
} as const satisfies ChatCompletionFunctionTool;

// The observer's notes, in the variant strict function calling accepts.
const TOOLS: ChatCompletionFunctionTool[] = [countWordsTool, { type: 'function', function: observerNotesToolStrict }];

/** Model round trips per message at most: a model that keeps calling tools is cut off. */
const MAX_ROUNDS = 4;

export async function chatWithModel(
  client: OpenAI,
  model: string,
  agent: RequestAgent,
  message: string,
  messageId?: string,
): Promise<{ reply: string; turnCount: number }> {
  const retry = (step: string) => (messageId === undefined ? undefined : { idempotencyKey: `${messageId}:${step}` });
  await agent.appendTurn({ role: 'user', content: message }, retry('user'));

  // The conversation so far, as the model sees it: the user and assistant turns kept in Redis.
  const history = await agent.turns({ last: 20 });
  const messages: ChatCompletionMessageParam[] = [
    { role: 'system', content: 'You are a helpful assistant. Call get_observer_notes when a summary of the conversation so far would help.' },
    ...history
      .filter((turn) => turn.role === 'user' || turn.role === 'assistant')
      .map((turn) => ({ role: turn.role as 'user' | 'assistant', content: turn.content })),
  ];

  for (let round = 0; round < MAX_ROUNDS; round++) {
    const completion = await client.chat.completions.create({ model, messages, tools: TOOLS });
    const answer = completion.choices[0]?.message;
    if (!answer) throw new Error('The model answered with no choice.');
    const calls = (answer.tool_calls ?? []).filter((call) => call.type === 'function');
    if (calls.length === 0) {
      const reply = answer.content ?? '';
      const turn = await agent.appendTurn({ role: 'assistant', content: reply }, retry('reply'));
      await agent.requestObservation();
      return { reply, turnCount: turn.seq };
    }
    messages.push({ role: 'assistant', content: answer.content ?? null, tool_calls: calls });
    for (const call of calls) {
      const args = parseArguments(call.function.arguments);
      await agent.startToolCall({ id: call.id, name: call.function.name, args }, retry(`tool:${call.id}`));
      let output: unknown;
      try {
        output = await runTool(agent, call.function.name, args);
        await agent.completeToolCall(call.id, output);
      } catch (error) {
        // The model is told what went wrong, so it can correct the call; the failure is recorded too.
        const reason = error instanceof InvalidInputError ? error.message : 'the tool failed';
        await agent.failToolCall(call.id, reason);
        output = { error: reason };
      }
      messages.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify(output) });
    }
  }
  const reply = 'Sorry, I could not finish that answer.';
  const turn = await agent.appendTurn({ role: 'assistant', content: reply }, retry('reply'));
  return { reply, turnCount: turn.seq };
}

async function runTool(agent: RequestAgent, name: string, args: unknown): Promise<unknown> {
  if (name === observerNotesToolStrict.name) return handleObserverNotesTool(agent, args);
  if (name === countWordsTool.function.name) {
    const text = typeof (args as { text?: unknown })?.text === 'string' ? (args as { text: string }).text : '';
    const words = text.split(/\s+/).filter(Boolean);
    return { words: words.length, longest: words.reduce((best, word) => (word.length > best.length ? word : best), '') };
  }
  throw new InvalidInputError(`There is no tool named "${name}".`);
}

function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text || '{}');
  } catch {
    return {};
  }
}
