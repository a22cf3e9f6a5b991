/**
 * A stand-in for the streaming Responses API (`POST <base_url>/responses`, answered with
 * server-sent events) on 127.0.0.1, so the real Codex binary can run turns without a network.
 *
 * Replies are scripted from the request itself, never random:
 * - the newest real user prompt (not Codex's own context messages) gets
 *   `Mock assistant reply #<n> to "<prompt>" [<hash>]`, n = how many real prompts the input holds;
 * - a prompt holding `[[spawn_agent: <task>]]` is answered with a `spawn_agent` function call
 *   whose message is `<task>` (the task may itself hold a marker, giving a grandchild);
 * - once the input holds a tool result after the newest prompt, the reply is a plain message, so
 *   a spawn happens at most once per prompt.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as z from 'zod';

const contentPartSchema = z.object({ type: z.string(), text: z.string().optional() }).passthrough();

const inputItemSchema = z
  .object({
    type: z.string().optional(),
    role: z.string().optional(),
    content: z.union([z.array(contentPartSchema), z.string()]).optional(),
    name: z.string().optional(),
    call_id: z.string().optional(),
    output: z.unknown().optional(),
  })
  .passthrough();

const toolSchema: z.ZodType<ToolSpec> = z.lazy(() =>
  z
    .object({
      type: z.string(),
      name: z.string().optional(),
      tools: z.array(toolSchema).optional(),
    })
    .passthrough(),
);

interface ToolSpec {
  type: string;
  name?: string | undefined;
  tools?: ToolSpec[] | undefined;
}

const responsesRequestSchema = z
  .object({
    model: z.string(),
    stream: z.boolean().optional(),
    input: z.array(inputItemSchema),
    tools: z.array(toolSchema).optional(),
  })
  .passthrough();

type InputItem = z.infer<typeof inputItemSchema>;

export type ReplyKind = 'message' | 'spawn_agent' | 'after_tool';

/** One model request as the transcript keeps it (the body is summarized, not copied). */
export interface ModelRequestRecord {
  at: string;
  method: string;
  path: string;
  status: number;
  /** Which configured provider the request came through (the base path names it). */
  provider?: string;
  /** Codex's thread id header, when sent. */
  threadId?: string;
  kind?: ReplyKind;
  userCount?: number;
  lastUser?: string;
  reply?: string;
  tools?: string[];
  error?: string;
}

export interface MockModelServerOptions {
  /** Called for every request once it has been answered (for transcripts and progress). */
  onRequest?: (record: ModelRequestRecord) => void;
}

const SPAWN_MARKER = /\[\[spawn_agent:\s*([\s\S]*)\]\]/;

/** Codex adds context messages in the user role; they are not prompts the scenario typed. */
function isContextText(text: string): boolean {
  const trimmed = text.trimStart();
  return trimmed.startsWith('<') || trimmed.startsWith('# AGENTS.md');
}

function itemText(item: InputItem): string {
  if (typeof item.content === 'string') return item.content;
  return (item.content ?? [])
    .map((part) => part.text ?? '')
    .join('')
    .trim();
}

function isUserPrompt(item: InputItem): boolean {
  return (
    (item.type === undefined || item.type === 'message') &&
    item.role === 'user' &&
    !isContextText(itemText(item))
  );
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/** Tool names offered by the request, namespaced ones as `namespace/name`. */
function toolNames(tools: readonly ToolSpec[] | undefined): string[] {
  const names: string[] = [];
  for (const tool of tools ?? []) {
    if (tool.type === 'namespace' && tool.tools) {
      for (const inner of tool.tools) names.push(`${tool.name}/${inner.name}`);
    } else if (tool.name) {
      names.push(tool.name);
    } else {
      names.push(tool.type);
    }
  }
  return names;
}

interface ScriptedReply {
  kind: ReplyKind;
  userCount: number;
  lastUser: string;
  /** Assistant text, or the function-call arguments for a spawn. */
  text: string;
  /** For a spawn: the namespace the tool was offered in (0.169 nests it), if any. */
  namespace?: string;
}

/** Decides the reply to one request; pure, so the same request always gets the same answer. */
export function scriptReply(input: readonly InputItem[], tools: readonly string[]): ScriptedReply {
  const prompts = input.filter(isUserPrompt);
  const lastPromptIndex = input.findLastIndex(isUserPrompt);
  const lastUser = prompts.length > 0 ? itemText(prompts[prompts.length - 1]!) : '';
  const userCount = prompts.length;
  const afterPrompt = input.slice(lastPromptIndex + 1);
  const toolRan = afterPrompt.some(
    (item) => item.type === 'function_call' || item.type === 'function_call_output',
  );
  if (toolRan) {
    const lastOutput = afterPrompt.findLast((item) => item.type === 'function_call_output');
    const digest = shortHash(JSON.stringify(lastOutput?.output ?? ''));
    return {
      kind: 'after_tool',
      userCount,
      lastUser,
      text: `Mock assistant: tool finished (${digest}).`,
    };
  }
  const spawn = SPAWN_MARKER.exec(lastUser);
  const spawnTool = tools.find((name) => name === 'spawn_agent' || name.endsWith('/spawn_agent'));
  if (spawn && spawnTool) {
    const namespace = spawnTool.includes('/') ? spawnTool.split('/')[0] : undefined;
    return {
      kind: 'spawn_agent',
      userCount,
      lastUser,
      text: JSON.stringify({ message: spawn[1]!.trim() }),
      ...(namespace ? { namespace } : {}),
    };
  }
  return {
    kind: 'message',
    userCount,
    lastUser,
    text: `Mock assistant reply #${userCount} to "${lastUser}" [${shortHash(`${userCount}:${lastUser}`)}]`,
  };
}

function writeEvent(res: ServerResponse, event: Record<string, unknown>): void {
  res.write(`event: ${String(event.type)}\ndata: ${JSON.stringify(event)}\n\n`);
}

/** Streams one scripted reply in the event order the Responses API uses. */
function streamReply(res: ServerResponse, reply: ScriptedReply, seq: number, inputChars: number) {
  const tag = shortHash(`${seq}:${reply.lastUser}:${reply.kind}`);
  const responseId = `resp_${tag}`;
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  writeEvent(res, {
    type: 'response.created',
    response: { id: responseId, object: 'response', status: 'in_progress', output: [] },
  });
  let item: Record<string, unknown>;
  if (reply.kind === 'spawn_agent') {
    item = {
      type: 'function_call',
      id: `fc_${tag}`,
      status: 'completed',
      name: 'spawn_agent',
      ...(reply.namespace ? { namespace: reply.namespace } : {}),
      arguments: reply.text,
      call_id: `call_${tag}`,
    };
    writeEvent(res, {
      type: 'response.output_item.added',
      output_index: 0,
      item: { ...item, arguments: '', status: 'in_progress' },
    });
  } else {
    item = {
      type: 'message',
      id: `msg_${tag}`,
      status: 'completed',
      role: 'assistant',
      content: [{ type: 'output_text', text: reply.text, annotations: [] }],
    };
    writeEvent(res, {
      type: 'response.output_item.added',
      output_index: 0,
      item: { ...item, status: 'in_progress', content: [] },
    });
    // Two deltas, so clients see real streaming rather than one chunk.
    const cut = Math.ceil(reply.text.length / 2);
    for (const delta of [reply.text.slice(0, cut), reply.text.slice(cut)]) {
      if (delta === '') continue;
      writeEvent(res, {
        type: 'response.output_text.delta',
        item_id: item.id,
        output_index: 0,
        content_index: 0,
        delta,
      });
    }
  }
  writeEvent(res, { type: 'response.output_item.done', output_index: 0, item });
  const inputTokens = Math.max(1, Math.round(inputChars / 4));
  const outputTokens = Math.max(1, Math.round(reply.text.length / 4));
  writeEvent(res, {
    type: 'response.completed',
    response: {
      id: responseId,
      object: 'response',
      status: 'completed',
      output: [item],
      usage: {
        input_tokens: inputTokens,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: outputTokens,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: inputTokens + outputTokens,
      },
    },
  });
  res.end();
}

function readBody(req: IncomingMessage, limit = 32 * 1024 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error(`request body over ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export class MockModelServer {
  readonly requests: ModelRequestRecord[] = [];
  #server: Server;
  #seq = 0;
  #port = 0;

  private constructor(private readonly options: MockModelServerOptions) {
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        this.#record({
          at: new Date().toISOString(),
          method: req.method ?? '?',
          path: req.url ?? '?',
          status: 500,
          error: String(error),
        });
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: String(error) } }));
      });
    });
    // Codex may try a websocket first for some providers: refuse so it falls back to HTTP.
    this.#server.on('upgrade', (req, socket) => {
      this.#record({
        at: new Date().toISOString(),
        method: 'UPGRADE',
        path: req.url ?? '?',
        status: 426,
      });
      socket.end('HTTP/1.1 426 Upgrade Required\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    });
  }

  static async start(options: MockModelServerOptions = {}): Promise<MockModelServer> {
    const server = new MockModelServer(options);
    await new Promise<void>((resolve, reject) => {
      server.#server.once('error', reject);
      server.#server.listen(0, '127.0.0.1', () => resolve());
    });
    server.#port = (server.#server.address() as AddressInfo).port;
    return server;
  }

  get port(): number {
    return this.#port;
  }

  /** The `base_url` for a provider id: every provider gets its own path on the same server. */
  baseUrl(provider: string): string {
    return `http://127.0.0.1:${this.#port}/${provider}/v1`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #record(record: ModelRequestRecord): void {
    this.requests.push(record);
    this.options.onRequest?.(record);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = new Date().toISOString();
    const path = req.url ?? '/';
    const method = req.method ?? 'GET';
    const match = /^\/([^/]+)\/v1\/responses(?:\?.*)?$/.exec(path);
    const threadHeader = req.headers['thread-id'] ?? req.headers.session_id;
    const threadId = typeof threadHeader === 'string' ? threadHeader : undefined;
    if (method !== 'POST' || !match) {
      // Drain the body so keep-alive connections stay usable.
      await readBody(req);
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `no mock route for ${method} ${path}` } }));
      this.#record({ at, method, path, status: 404 });
      return;
    }
    const raw = await readBody(req);
    const parsed = responsesRequestSchema.safeParse(JSON.parse(raw));
    if (!parsed.success) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'not a Responses API request' } }));
      this.#record({ at, method, path, status: 400, error: parsed.error.message.slice(0, 500) });
      return;
    }
    const tools = toolNames(parsed.data.tools);
    const reply = scriptReply(parsed.data.input, tools);
    this.#seq += 1;
    streamReply(res, reply, this.#seq, raw.length);
    this.#record({
      at,
      method,
      path,
      status: 200,
      provider: match[1]!,
      ...(threadId ? { threadId } : {}),
      kind: reply.kind,
      userCount: reply.userCount,
      lastUser: reply.lastUser,
      reply: reply.text,
      tools,
    });
  }
}
