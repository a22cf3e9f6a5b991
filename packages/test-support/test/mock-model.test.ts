import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockModelServer } from '../src/recorder/mock-model.js';

interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

/** Splits an SSE body into events, checking each has one `event:` and one JSON `data:` line. */
function parseSse(body: string): SseEvent[] {
  return body
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const lines = block.split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^event: /);
      expect(lines[1]).toMatch(/^data: /);
      const event = lines[0]!.slice('event: '.length);
      const data = JSON.parse(lines[1]!.slice('data: '.length)) as Record<string, unknown>;
      expect(data.type).toBe(event);
      return { event, data };
    });
}

const context = [
  { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'rules' }] },
  {
    type: 'message',
    role: 'user',
    content: [{ type: 'input_text', text: '<environment_context>cwd</environment_context>' }],
  },
];

function user(text: string) {
  return { type: 'message', role: 'user', content: [{ type: 'input_text', text }] };
}

describe('MockModelServer', () => {
  let server: MockModelServer;
  beforeAll(async () => {
    server = await MockModelServer.start();
  });
  afterAll(async () => {
    await server.close();
  });

  async function post(provider: string, body: unknown) {
    const response = await fetch(`${server.baseUrl(provider)}/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'thread-id': 'thread-under-test' },
      body: JSON.stringify(body),
    });
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      text: await response.text(),
    };
  }

  it('streams a message reply as Responses API events, counting only real prompts', async () => {
    const reply = await post('mock', {
      model: 'mock-model',
      stream: true,
      input: [...context, user('First question'), user('Second question')],
      tools: [],
    });
    expect(reply.status).toBe(200);
    expect(reply.type).toBe('text/event-stream');
    const events = parseSse(reply.text);
    expect(events.map((e) => e.event)).toEqual([
      'response.created',
      'response.output_item.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_item.done',
      'response.completed',
    ]);
    const done = events[4]!.data.item as {
      type: string;
      role: string;
      content: { text: string }[];
    };
    expect(done.type).toBe('message');
    expect(done.role).toBe('assistant');
    const text = done.content[0]!.text;
    expect(text).toMatch(/^Mock assistant reply #2 to "Second question" \[[0-9a-f]{8}\]$/);
    const deltas = events.filter((e) => e.event === 'response.output_text.delta');
    expect(deltas.map((e) => e.data.delta).join('')).toBe(text);
    const completed = events[5]!.data.response as { id: string; usage: Record<string, number> };
    expect(completed.id).toBe((events[0]!.data.response as { id: string }).id);
    expect(completed.usage.total_tokens).toBe(
      (completed.usage.input_tokens ?? 0) + (completed.usage.output_tokens ?? 0),
    );
    const record = server.requests.at(-1)!;
    expect(record).toMatchObject({
      provider: 'mock',
      status: 200,
      kind: 'message',
      userCount: 2,
      lastUser: 'Second question',
      reply: text,
      threadId: 'thread-under-test',
    });
  });

  it('answers a spawn marker with a spawn_agent call in the namespace it was offered in', async () => {
    const tools = [
      { type: 'function', name: 'exec_command' },
      {
        type: 'namespace',
        name: 'multi_agent_v1',
        tools: [{ type: 'function', name: 'spawn_agent' }],
      },
    ];
    const prompt = 'Delegate [[spawn_agent: Child task [[spawn_agent: Grandchild task]]]]';
    const events = parseSse(
      (await post('mock_alt', { model: 'm', input: [user(prompt)], tools })).text,
    );
    const call = events.find((e) => e.event === 'response.output_item.done')!.data.item as Record<
      string,
      string
    >;
    expect(call.type).toBe('function_call');
    expect(call.name).toBe('spawn_agent');
    expect(call.namespace).toBe('multi_agent_v1');
    expect(JSON.parse(call.arguments!)).toEqual({
      message: 'Child task [[spawn_agent: Grandchild task]]',
    });
    expect(server.requests.at(-1)?.provider).toBe('mock_alt');

    // Once the tool ran, the same prompt gets a plain message: one spawn per prompt.
    const after = parseSse(
      (
        await post('mock_alt', {
          model: 'm',
          input: [
            user(prompt),
            {
              type: 'function_call',
              name: 'spawn_agent',
              call_id: call.call_id,
              arguments: call.arguments,
            },
            { type: 'function_call_output', call_id: call.call_id, output: '{"agent_id":"x"}' },
          ],
          tools,
        })
      ).text,
    );
    const message = after.find((e) => e.event === 'response.output_item.done')!.data.item as {
      type: string;
      content: { text: string }[];
    };
    expect(message.type).toBe('message');
    expect(message.content[0]!.text).toMatch(/^Mock assistant: tool finished \([0-9a-f]{8}\)\.$/);
  });

  it('offers no spawn when the request has no spawn tool (a sub-agent at the depth limit)', async () => {
    const events = parseSse(
      (await post('mock', { model: 'm', input: [user('Task [[spawn_agent: deeper]]')], tools: [] }))
        .text,
    );
    const item = events.find((e) => e.event === 'response.output_item.done')!.data.item as {
      type: string;
    };
    expect(item.type).toBe('message');
  });

  it('refuses other routes, malformed bodies and websocket upgrades', async () => {
    expect((await fetch(`http://127.0.0.1:${server.port}/mock/v1/models`)).status).toBe(404);
    expect((await post('mock', { model: 'm' })).status).toBe(400);
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = request(`${server.baseUrl('mock')}/responses`, {
        headers: { connection: 'Upgrade', upgrade: 'websocket' },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on('upgrade', () => reject(new Error('the mock accepted a websocket')));
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(426);
    expect(server.requests.at(-1)).toMatchObject({ method: 'UPGRADE', status: 426 });
  });
});
