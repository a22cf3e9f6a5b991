/**
 * The JSON-RPC core: connections, the handshake, method dispatch with serde-style param
 * validation and experimental gating, and notification delivery (broadcast to every
 * initialized connection, or to one connection), each stamped with `emittedAtMs`.
 */

import {
  CODEX_CLIENT_METHODS,
  EXPERIMENTAL_METHODS,
  EXPERIMENTAL_PARAMS,
  initializeParams,
  serdeMessage,
} from '@skein/app-server-protocol';
import type { ZodType } from 'zod';
import { isDamagedHomeError, RpcError, toRpcError } from '../errors.js';
import { Connection, type Outbound } from './connection.js';
import {
  checkParamBounds,
  jsonDepthExceeds,
  leadingRequestId,
  MAX_JSON_DEPTH,
  messageTooLarge,
} from './limits.js';
import { decodeMessage, type RequestId } from './rpc.js';

/** What a handler gets for one request. */
export interface Call<P> {
  readonly params: P;
  /** The params object as sent (to tell an absent key from `null`). */
  readonly raw: Record<string, unknown>;
  readonly connection: Connection;
  /** Runs `task` right after the response is written (follow-up notifications). */
  after(task: () => void | Promise<void>): void;
}

export interface MethodHandler<P = unknown> {
  readonly schema: ZodType<P>;
  handle(call: Call<P>): Promise<unknown>;
}

export type MethodTable = ReadonlyMap<string, MethodHandler<never>>;

export interface InitializeInfo {
  codexHome: string;
  userAgent(clientName: string, clientVersion: string): string;
}

const UNKNOWN_METHOD_LIST = CODEX_CLIENT_METHODS.map((m) => `\`${m}\``).join(', ');

/**
 * The JSON-RPC server core: connections (`open`, `receive`, `close`), the `initialize` handshake,
 * dispatch to the method table and delivery of notifications. Transport-free; `serveStdio` and
 * `serveWebSocket` feed it.
 */
export class AppServer {
  readonly #connections = new Map<string, Connection>();
  readonly #queues = new Map<string, Promise<void>>();
  #methods: MethodTable = new Map();
  #nextConnectionId = 1;
  #onClose: ((connection: Connection) => void)[] = [];

  constructor(
    private readonly info: InitializeInfo,
    private readonly log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {}

  setMethods(methods: MethodTable): void {
    this.#methods = methods;
  }

  /** Called with every connection that goes away (the manager drops its subscriptions). */
  onConnectionClosed(listener: (connection: Connection) => void): void {
    this.#onClose.push(listener);
  }

  open(outbound: Outbound): Connection {
    const connection = new Connection(`conn-${this.#nextConnectionId++}`, outbound);
    this.#connections.set(connection.id, connection);
    return connection;
  }

  close(connection: Connection): void {
    if (!this.#connections.delete(connection.id)) return;
    connection.close();
    for (const listener of this.#onClose) {
      try {
        listener(connection);
      } catch (error) {
        this.log(`connection close listener failed: ${String(error)}`);
      }
    }
  }

  get connections(): readonly Connection[] {
    return [...this.#connections.values()];
  }

  connection(id: string): Connection | undefined {
    return this.#connections.get(id);
  }

  /** A notification to every initialized connection (each may have opted out). */
  broadcast(method: string, params: unknown): void {
    const emittedAtMs = Date.now();
    for (const connection of this.#connections.values())
      connection.notify(method, params, emittedAtMs);
  }

  /** Handles one incoming text message; requests of one connection run one at a time. */
  receive(connection: Connection, text: string): Promise<void> {
    const previous = this.#queues.get(connection.id) ?? Promise.resolve();
    const next = previous
      .then(() => this.#process(connection, text))
      .catch((error: unknown) => {
        this.log(`request processing failed: ${String(error)}`);
      });
    this.#queues.set(connection.id, next);
    return next;
  }

  /**
   * A message a transport cut off at its size bound (only its first bytes were kept): answered
   * with a clear error when those bytes carry a request id, else logged; in order with the
   * connection's other requests. The connection goes on.
   */
  rejectOversized(connection: Connection, prefix: string, maxBytes: number): Promise<void> {
    const previous = this.#queues.get(connection.id) ?? Promise.resolve();
    const next = previous.then(() => {
      const id = leadingRequestId(prefix);
      const error = messageTooLarge(maxBytes);
      this.log(
        `dropped a message larger than ${maxBytes} bytes${id === null ? '' : ` (request ${JSON.stringify(id)})`}`,
      );
      if (id !== null) connection.send({ error: { code: error.code, message: error.message }, id });
    });
    this.#queues.set(connection.id, next);
    return next;
  }

  /** Resolves when every queued request has been answered. */
  async idle(): Promise<void> {
    await Promise.all(this.#queues.values());
  }

  async #process(connection: Connection, text: string): Promise<void> {
    const message = decodeMessage(text);
    switch (message.kind) {
      case 'invalid':
        // 0.169.0 logs and drops such lines without answering; the server keeps serving.
        this.log(message.reason);
        return;
      case 'response':
        return;
      case 'notification':
        // `initialized` needs no action: the connection is live once `initialize` succeeded.
        return;
      case 'request':
        if (jsonDepthExceeds(text)) {
          connection.send({
            error: {
              code: -32600,
              message: `Invalid request: nesting deeper than ${MAX_JSON_DEPTH} levels`,
            },
            id: message.id,
          });
          return;
        }
        await this.#request(
          connection,
          message.id,
          message.method,
          message.params,
          message.hasParams,
        );
    }
  }

  async #request(
    connection: Connection,
    id: RequestId,
    method: string,
    params: unknown,
    hasParams: boolean,
  ): Promise<void> {
    const followUps: (() => void | Promise<void>)[] = [];
    try {
      const result = await this.#dispatch(connection, method, params, hasParams, (task) => {
        followUps.push(task);
      });
      connection.send({ id, result });
    } catch (error) {
      const rpc = toRpcError(error, { method, params });
      // A damaged rollout in the home is the user's to fix, not Skein's bug: one line, no stack.
      if (rpc.code === -32603 && isDamagedHomeError(error)) this.log(`${method}: ${rpc.message}`);
      else if (rpc.code === -32603)
        this.log(`internal error in ${method}: ${(error as Error)?.stack ?? String(error)}`);
      const body =
        rpc.data === undefined
          ? { code: rpc.code, message: rpc.message }
          : { code: rpc.code, data: rpc.data, message: rpc.message };
      connection.send({ error: body, id });
      return;
    }
    for (const task of followUps) {
      try {
        await task();
      } catch (error) {
        this.log(`follow-up of ${method} failed: ${String(error)}`);
      }
    }
  }

  async #dispatch(
    connection: Connection,
    method: string,
    params: unknown,
    hasParams: boolean,
    after: (task: () => void | Promise<void>) => void,
  ): Promise<unknown> {
    const handler = method === 'initialize' ? undefined : this.#methods.get(method);
    if (method !== 'initialize' && handler === undefined) {
      if (!CODEX_CLIENT_METHODS.includes(method)) {
        throw RpcError.invalidRequest(
          `Invalid request: unknown variant \`${method}\`, expected one of ${UNKNOWN_METHOD_LIST}`,
        );
      }
      // A Codex method outside Skein's thread subset: the store/runtime cannot serve it.
      if (!connection.initialized) throw RpcError.invalidRequest('Not initialized');
      throw RpcError.unsupported(`${method} is not supported yet`);
    }
    if (!hasParams) throw RpcError.invalidRequest('Invalid request: missing field `params`');
    const schema = method === 'initialize' ? initializeParams : (handler as MethodHandler).schema;
    const parsed = schema.safeParse(params);
    if (!parsed.success)
      throw RpcError.invalidRequest(`Invalid request: ${serdeMessage(parsed.error)}`);
    if (method === 'initialize') return this.#initialize(connection, parsed.data as never);
    if (!connection.initialized) throw RpcError.invalidRequest('Not initialized');
    const raw = params as Record<string, unknown>;
    checkParamBounds(method, raw);
    if (!connection.experimentalApi) {
      if (EXPERIMENTAL_METHODS.includes(method)) {
        throw RpcError.invalidRequest(`${method} requires experimentalApi capability`);
      }
      for (const field of EXPERIMENTAL_PARAMS[method] ?? []) {
        if (raw[field] !== undefined && raw[field] !== null) {
          throw RpcError.invalidRequest(`${method}.${field} requires experimentalApi capability`);
        }
      }
    }
    return (handler as MethodHandler).handle({ params: parsed.data, raw, connection, after });
  }

  #initialize(
    connection: Connection,
    params: {
      clientInfo: { name: string; version: string };
      capabilities?:
        | {
            experimentalApi?: boolean | undefined;
            optOutNotificationMethods?: string[] | undefined;
          }
        | undefined;
    },
  ): unknown {
    if (connection.initialized) throw RpcError.invalidRequest('Already initialized');
    connection.initialized = true;
    connection.clientName = params.clientInfo.name;
    connection.clientVersion = params.clientInfo.version;
    connection.experimentalApi = params.capabilities?.experimentalApi === true;
    for (const method of params.capabilities?.optOutNotificationMethods ?? [])
      connection.optedOut.add(method);
    return {
      userAgent: this.info.userAgent(params.clientInfo.name, params.clientInfo.version),
      codexHome: this.info.codexHome,
      platformFamily: process.platform === 'win32' ? 'windows' : 'unix',
      platformOs: platformOs(),
    };
  }
}

function platformOs(): string {
  switch (process.platform) {
    case 'darwin':
      return 'macos';
    case 'win32':
      return 'windows';
    default:
      return process.platform;
  }
}
