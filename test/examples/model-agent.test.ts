import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../harness/redis-server.js';
import { Browser } from '../middleware/browser.js';
import { listening, runExample, stop } from './processes.js';

/**
 * The Express example with a real model SDK (the official `openai` package),
 * offline: OPENAI_BASE_URL points at a local server that speaks the chat
 * completions wire format for one tool-calling exchange. The model first
 * calls both tools (the observer's notes and count_words), then answers;
 * the example records both tool calls and the two turns through req.agent.
 */
interface Recorded {
  path: string;
  authorization: string | undefined;
  body: { model: string; messages: Array<Record<string, unknown>>; tools: Array<{ type: string; function: Record<string, unknown> }> };
}

let model: Server;
let modelUrl: string;
const requests: Recorded[] = [];

function completion(message: Record<string, unknown>, finishReason: string) {
  return {
    id: `chatcmpl-${requests.length}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: 'gpt-test',
    choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: null, ...message }, finish_reason: finishReason, logprobs: null }],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text;
}

beforeAll(async () => {
  model = createServer(async (req, res) => {
    const body = JSON.parse(await readBody(req)) as Recorded['body'];
    requests.push({ path: req.url ?? '', authorization: req.headers.authorization, body });
    const answeredTools = body.messages.some((message) => message.role === 'tool');
    const answer = answeredTools
      ? completion({ content: 'Two words, and no notes yet.' }, 'stop')
      : completion(
          {
            tool_calls: [
              { id: 'call_notes_1', type: 'function', function: { name: 'get_observer_notes', arguments: '{"maxAgeMs":null,"maxLagTurns":2}' } },
              { id: 'call_count_1', type: 'function', function: { name: 'count_words', arguments: '{"text":"hello there"}' } },
            ],
          },
          'tool_calls',
        );
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  });
  await new Promise<void>((resolve) => model.listen(0, '127.0.0.1', resolve));
  modelUrl = `http://127.0.0.1:${(model.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  await new Promise((resolve) => model.close(resolve));
});

describe('Express example with OPENAI_API_KEY: the agent loop with the openai SDK', () => {
  it('records the tool calls and turns of one tool-calling exchange through req.agent', async () => {
    const port = await freePort();
    const example = runExample('examples/express-server.ts', {
      PORT: String(port),
      REDIS_URL: inject('redisUrl'),
      OPENAI_API_KEY: 'sk-test-offline',
      OPENAI_BASE_URL: modelUrl,
      OPENAI_MODEL: 'gpt-test',
    });
    try {
      await listening(example, `http://localhost:${port}`);
      const browser = new Browser(`http://127.0.0.1:${port}`, {});
      expect((await browser.post('/login', { userId: 'ada' })).status).toBe(200);

      const chat = await browser.post('/chat', { message: 'hello there' });
      expect(chat.status, example.output()).toBe(200);
      expect(chat.body).toEqual({ reply: 'Two words, and no notes yet.', turnCount: 2 });

      // What the SDK sent: the key, the model, the tools (the notes tool in its strict variant), then the tool results.
      expect(requests).toHaveLength(2);
      const [first, second] = requests as [Recorded, Recorded];
      expect(first.path).toBe('/v1/chat/completions');
      expect(first.authorization).toBe('Bearer sk-test-offline');
      expect(first.body.model).toBe('gpt-test');
      expect(first.body.messages.at(-1)).toEqual({ role: 'user', content: 'hello there' });
      expect(first.body.tools.map((tool) => tool.function.name).sort()).toEqual(['count_words', 'get_observer_notes']);
      expect(first.body.tools.find((tool) => tool.function.name === 'get_observer_notes')!.function.strict).toBe(true);
      const results = second.body.messages.filter((message) => message.role === 'tool');
      expect(results.map((message) => message.tool_call_id)).toEqual(['call_notes_1', 'call_count_1']);
      expect(JSON.parse(String(results[0]!.content))).toMatchObject({ ready: false });
      expect(JSON.parse(String(results[1]!.content))).toEqual({ words: 2, longest: 'hello' });

      // What req.agent recorded.
      const state = await browser.get('/state');
      expect(state.body.turns.map((turn: { role: string; content: string }) => [turn.role, turn.content])).toEqual([
        ['user', 'hello there'],
        ['assistant', 'Two words, and no notes yet.'],
      ]);
      expect(state.body.toolCalls).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ id: 'call_notes_1', name: 'get_observer_notes', status: 'completed', args: { maxAgeMs: null, maxLagTurns: 2 } }),
          expect.objectContaining({ id: 'call_count_1', name: 'count_words', status: 'completed', result: { words: 2, longest: 'hello' } }),
        ]),
      );
    } finally {
      await stop(example);
    }
  });
});
