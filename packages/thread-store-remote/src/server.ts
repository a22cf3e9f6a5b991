/**
 * `serveThreadStore`: serves any ThreadStore over `codex.thread_store.v1`. The store is built
 * once by the caller (one state handle per process) and shared by every call.
 */
import * as grpc from '@grpc/grpc-js';
import {
  listItemsParamsSchema,
  listTurnsParamsSchema,
  searchThreadsParamsSchema,
  type ThreadStore,
  ThreadStoreError,
} from '@skein/thread-store';
import type * as z from 'zod';
import {
  bearerTokenInterceptor,
  isLocalAddress,
  type ServerTls,
  serverCredentials,
} from './auth.js';
import type {
  AppendThreadItemsRequestMessage,
  CreateThreadRequestMessage,
  JsonRequestMessage,
  JsonResponseMessage,
  ListThreadsRequestMessage,
  LoadThreadHistoryRequestMessage,
  ReadThreadRequestMessage,
  ResumeThreadRequestMessage,
  SessionEventMessage,
  SessionRequestMessage,
  ThreadIdRequestMessage,
  UpdateThreadMetadataRequestMessage,
} from './proto.js';
import { threadStoreService } from './proto.js';
import { toServiceError } from './status.js';
import {
  createThreadFromMessage,
  decodeItems,
  historyToMessage,
  listThreadsFromMessage,
  parseJsonField,
  parseThreadIdField,
  patchFromMessage,
  resumeThreadFromMessage,
  storedThreadToMessage,
  threadPageToMessage,
} from './wire.js';

/**
 * A running thread-store gRPC server: the address it bound and how to stop it (draining running
 * calls).
 */
export interface ThreadStoreServer {
  /** `host:port` actually bound (the port resolved when 0 was asked for). */
  address: string;
  port: number;
  /** Stops accepting calls, lets running ones finish (up to `graceMs`), then stops. */
  close(graceMs?: number): Promise<void>;
}

/** Server-side limits of `serveThreadStore`: the largest message accepted or sent. */
export interface ServeThreadStoreOptions {
  /** Largest message accepted or sent, in bytes. Default 64 MiB (long histories). */
  maxMessageBytes?: number;
  /**
   * Bearer token every call must present (`authorization: Bearer <token>` metadata); calls
   * without it fail `UNAUTHENTICATED`. Required for an address other machines can reach.
   */
  token?: string;
  /** Serve TLS with this certificate and key instead of plaintext. */
  tls?: ServerTls;
}

type Handler<Req, Res> = (request: Req, metadata: grpc.Metadata) => Promise<Res>;

function unary<Req, Res>(handler: Handler<Req, Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    handler(call.request, call.metadata).then(
      (response) => callback(null, response),
      (error: unknown) => callback(toServiceError(error) as grpc.ServiceError),
    );
  };
}

function jsonCall<S extends z.ZodType>(
  schema: S,
  run: (params: z.output<S>) => Promise<unknown>,
): Handler<JsonRequestMessage, JsonResponseMessage> {
  return async (request) => ({
    result_json: JSON.stringify(
      await run(parseJsonField(schema, request.params_json, 'params_json')),
    ),
  });
}

/** The service implementation over `store` (exported for embedding in another grpc.Server). */
export function threadStoreHandlers(store: ThreadStore): grpc.UntypedServiceImplementation {
  const empty = {};
  const sessions = new ClientSessions(store);
  return {
    CreateThread: unary(async (request: CreateThreadRequestMessage, metadata) => {
      const params = createThreadFromMessage(request);
      await store.createThread(params);
      sessions.adopt(metadata, params.threadId);
      return empty;
    }),
    ResumeThread: unary(async (request: ResumeThreadRequestMessage, metadata) => {
      const params = resumeThreadFromMessage(request);
      if (params.rolloutPath != null) {
        // A client's path means nothing on the server's filesystem.
        throw ThreadStoreError.invalidRequest(
          'remote thread store does not accept rollout paths; resume by thread id',
        );
      }
      await store.resumeThread(params);
      sessions.adopt(metadata, params.threadId);
      return empty;
    }),
    AppendItems: unary(async (request: AppendThreadItemsRequestMessage) => {
      await store.appendItems({
        threadId: parseThreadIdField(request.thread_id),
        items: decodeItems(request.items_json, 'items_json'),
      });
      return empty;
    }),
    PersistThread: unary(async (request: ThreadIdRequestMessage) => {
      await store.persistThread(parseThreadIdField(request.thread_id));
      return empty;
    }),
    FlushThread: unary(async (request: ThreadIdRequestMessage) => {
      await store.flushThread(parseThreadIdField(request.thread_id));
      return empty;
    }),
    ShutdownThread: unary(async (request: ThreadIdRequestMessage) => {
      const threadId = parseThreadIdField(request.thread_id);
      await store.shutdownThread(threadId);
      sessions.release(threadId);
      return empty;
    }),
    DiscardThread: unary(async (request: ThreadIdRequestMessage) => {
      const threadId = parseThreadIdField(request.thread_id);
      await store.discardThread(threadId);
      sessions.release(threadId);
      return empty;
    }),
    LoadHistory: unary(async (request: LoadThreadHistoryRequestMessage) =>
      historyToMessage(
        await store.loadHistory({
          threadId: parseThreadIdField(request.thread_id),
          includeArchived: request.include_archived === true,
        }),
      ),
    ),
    ReadThread: unary(async (request: ReadThreadRequestMessage) => ({
      thread: storedThreadToMessage(
        await store.readThread({
          threadId: parseThreadIdField(request.thread_id),
          includeArchived: request.include_archived === true,
          includeHistory: request.include_history === true,
        }),
      ),
    })),
    ListThreads: unary(async (request: ListThreadsRequestMessage) =>
      threadPageToMessage(await store.listThreads(listThreadsFromMessage(request))),
    ),
    UpdateThreadMetadata: unary(async (request: UpdateThreadMetadataRequestMessage) => ({
      thread: storedThreadToMessage(
        await store.updateThreadMetadata({
          threadId: parseThreadIdField(request.thread_id),
          patch: patchFromMessage(request.patch),
          includeArchived: request.include_archived === true,
        }),
      ),
    })),
    ArchiveThread: unary(async (request: ThreadIdRequestMessage) => {
      await store.archiveThread({ threadId: parseThreadIdField(request.thread_id) });
      return empty;
    }),
    UnarchiveThread: unary(async (request: ThreadIdRequestMessage) => ({
      thread: storedThreadToMessage(
        await store.unarchiveThread({ threadId: parseThreadIdField(request.thread_id) }),
      ),
    })),
    DeleteThread: unary(async (request: ThreadIdRequestMessage) => {
      const threadId = parseThreadIdField(request.thread_id);
      await store.deleteThread({ threadId });
      sessions.release(threadId);
      return empty;
    }),
    OpenSession: (call: grpc.ServerWritableStream<SessionRequestMessage, SessionEventMessage>) =>
      sessions.open(call),
    SearchThreads: unary(
      jsonCall(searchThreadsParamsSchema, (params) => store.searchThreads(params)),
    ),
    ListTurns: unary(jsonCall(listTurnsParamsSchema, (params) => store.listTurns(params))),
    ListItems: unary(jsonCall(listItemsParamsSchema, (params) => store.listItems(params))),
  };
}

export const SESSION_METADATA_KEY = 'skein-session-id';

/**
 * Ties live writers to the client that opened them. A client that sends `skein-session-id`
 * keeps an `OpenSession` stream open; when that stream ends (the client closed, or its process
 * died and the connection dropped) every writer it still holds is discarded: durable history
 * stays, and the thread can be resumed by another client at once instead of staying locked to
 * a dead one. Clients without a session (stock peers) keep writers until they shut them down.
 */
class ClientSessions {
  private readonly owners = new Map<string, string>();

  constructor(private readonly store: ThreadStore) {}

  adopt(metadata: grpc.Metadata, threadId: string): void {
    const session = metadata.get(SESSION_METADATA_KEY)[0];
    if (typeof session === 'string' && session !== '') this.owners.set(threadId, session);
  }

  release(threadId: string): void {
    this.owners.delete(threadId);
  }

  open(call: grpc.ServerWritableStream<SessionRequestMessage, SessionEventMessage>): void {
    const session = call.request.session_id ?? '';
    if (session === '') {
      call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: 'session_id is required' });
      return;
    }
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      void this.discardSession(session);
    };
    call.on('cancelled', end);
    call.on('close', end);
    call.on('error', end);
    call.write({ session_id: session });
  }

  private async discardSession(session: string): Promise<void> {
    const threads = [...this.owners].filter(([, owner]) => owner === session).map(([id]) => id);
    for (const threadId of threads) {
      this.owners.delete(threadId);
      try {
        await this.store.discardThread(threadId as never);
      } catch {
        // best effort: the writer may already be gone
      }
    }
  }
}

/**
 * Serves `store` on `address` (`127.0.0.1:0` picks a free port). Resolves once the port is
 * bound. An address other machines can reach is refused without a token.
 */
export async function serveThreadStore(
  store: ThreadStore,
  address: string,
  options: ServeThreadStoreOptions = {},
): Promise<ThreadStoreServer> {
  const token = options.token === undefined || options.token === '' ? undefined : options.token;
  if (token === undefined && !isLocalAddress(address)) {
    throw new Error(
      `refusing to serve the thread store on ${address} without authentication: other machines ` +
        'could read and write every thread. Give a token (--token-file or SKEIN_STORE_TOKEN), ' +
        'or listen on 127.0.0.1',
    );
  }
  const maxBytes = options.maxMessageBytes ?? 64 * 1024 * 1024;
  const server = new grpc.Server({
    'grpc.max_receive_message_length': maxBytes,
    'grpc.max_send_message_length': maxBytes,
    ...(token === undefined ? {} : { interceptors: [bearerTokenInterceptor(token)] }),
  });
  server.addService(threadStoreService().service, threadStoreHandlers(store));
  const credentials = serverCredentials(options.tls);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, credentials, (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });
  const host = address.slice(0, address.lastIndexOf(':'));
  let closed: Promise<void> | undefined;
  return {
    address: `${host}:${port}`,
    port,
    close(graceMs = 5_000) {
      closed ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      return closed;
    },
  };
}
