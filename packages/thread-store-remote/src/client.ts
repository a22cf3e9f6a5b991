/**
 * `RemoteThreadStore`: a ThreadStore that forwards every call to a `codex.thread_store.v1`
 * server over gRPC. One channel per instance (reconnects on its own); errors come back as the
 * same ThreadStoreError the server's store raised. Paths are the server's business: reads by
 * rollout path and resumes from a path are refused with `InvalidRequest`.
 */
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import {
  type AppendThreadItemsParams,
  type ArchiveThreadParams,
  type CreateThreadParams,
  type DeleteThreadParams,
  type ItemPage,
  itemPageSchema,
  type ListItemsParams,
  type ListThreadsParams,
  type ListTurnsParams,
  type LoadThreadHistoryParams,
  type ReadThreadByRolloutPathParams,
  type ReadThreadParams,
  type ResumeThreadParams,
  type SearchThreadsParams,
  type StoredThread,
  type StoredThreadHistory,
  type ThreadId,
  type ThreadPage,
  type ThreadSearchPage,
  ThreadStoreBase,
  ThreadStoreError,
  type TurnPage,
  threadSearchPageSchema,
  turnPageSchema,
  type UpdateThreadMetadataParams,
  validateSearchParams,
} from '@skein/thread-store';
import type * as z from 'zod';
import {
  type JsonResponseMessage,
  type ListThreadsResponseMessage,
  type StoredThreadHistoryMessage,
  type StoredThreadResponseMessage,
  threadStoreService,
} from './proto.js';
import { fromServiceError } from './status.js';
import {
  createThreadToMessage,
  encodeItems,
  historyFromMessage,
  listThreadsToMessage,
  parseJsonField,
  patchToMessage,
  resumeThreadToMessage,
  storedThreadFromMessage,
  threadPageFromMessage,
} from './wire.js';

/** Per-call deadline and message size cap of a `RemoteThreadStore`. */
export interface RemoteThreadStoreOptions {
  /** Per-call deadline. Default 60 s. */
  callTimeoutMs?: number;
  /** Largest message accepted or sent, in bytes. Default 64 MiB. */
  maxMessageBytes?: number;
  /** Bearer token sent with every call (`authorization: Bearer <token>`). */
  token?: string;
  /**
   * Connect over TLS (`grpcs://`). `ca` is PEM of the certificates to trust; without it the
   * system roots are used.
   */
  tls?: { ca?: Buffer } | boolean;
}

type SessionMethod = (
  request: unknown,
  metadata: grpc.Metadata,
) => grpc.ClientReadableStream<unknown>;

type UnaryMethod = (
  request: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response?: unknown) => void,
) => grpc.ClientUnaryCall;

const SESSION_METADATA_KEY = 'skein-session-id';

/**
 * A `ThreadStore` that forwards every call to a `codex.thread_store.v1` server over gRPC (one
 * channel, reconnecting on its own). Errors arrive as the same `ThreadStoreError` the server's
 * store raised; reads by rollout path are refused.
 */
export class RemoteThreadStore extends ThreadStoreBase {
  private readonly client: grpc.Client;
  private readonly callTimeoutMs: number;
  /** `Bearer <token>`, sent with every call when a token was given. */
  private readonly authorization: string | undefined;
  /** Live writers this client opens belong to this session (see `OpenSession`). */
  readonly sessionId = randomUUID();
  private session: grpc.ClientReadableStream<unknown> | undefined;
  private sessionReady: Promise<void> | undefined;
  private sessionsUnsupported = false;

  /** `endpoint` is `host:port` (or `grpc://host:port`, or `grpcs://host:port` for TLS). */
  constructor(
    readonly endpoint: string,
    options: RemoteThreadStoreOptions = {},
  ) {
    super();
    const target = endpoint.replace(/^grpcs?:\/\//, '');
    const tls = options.tls ?? /^grpcs:\/\//.test(endpoint);
    const maxBytes = options.maxMessageBytes ?? 64 * 1024 * 1024;
    const Client = threadStoreService();
    const credentials =
      tls === false
        ? grpc.credentials.createInsecure()
        : grpc.credentials.createSsl(tls === true ? null : (tls.ca ?? null));
    this.client = new Client(target, credentials, {
      'grpc.max_receive_message_length': maxBytes,
      'grpc.max_send_message_length': maxBytes,
    });
    this.callTimeoutMs = options.callTimeoutMs ?? 60_000;
    this.authorization =
      options.token === undefined || options.token === '' ? undefined : `Bearer ${options.token}`;
  }

  private metadata(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    metadata.set(SESSION_METADATA_KEY, this.sessionId);
    if (this.authorization !== undefined) metadata.set('authorization', this.authorization);
    return metadata;
  }

  close(): void {
    this.session?.cancel();
    this.session = undefined;
    this.client.close();
  }

  /**
   * Opens the session stream once (again after it broke), before a live writer is opened, so
   * the server can discard our writers if this process goes away. A stock server without
   * `OpenSession` is tolerated: writers then live until shut down.
   */
  private ensureSession(): Promise<void> {
    if (this.sessionsUnsupported) return Promise.resolve();
    if (this.sessionReady) return this.sessionReady;
    const open = (this.client as unknown as Record<string, SessionMethod>).OpenSession;
    if (!open) return Promise.resolve();
    const stream = open.call(this.client, { session_id: this.sessionId }, this.metadata());
    this.session = stream;
    const forget = () => {
      if (this.session !== stream) return;
      this.session = undefined;
      this.sessionReady = undefined;
    };
    const ready = new Promise<void>((resolve, reject) => {
      stream.once('data', () => resolve());
      stream.once('error', (error: grpc.ServiceError) => {
        forget();
        if (error.code === grpc.status.UNIMPLEMENTED) {
          this.sessionsUnsupported = true;
          resolve();
        } else {
          reject(fromServiceError(error));
        }
      });
    });
    stream.on('data', () => {});
    stream.on('end', forget);
    stream.on('error', forget);
    this.sessionReady = ready;
    return ready;
  }

  private call<Res>(method: string, request: unknown, threadId?: string): Promise<Res> {
    const fn = (this.client as unknown as Record<string, UnaryMethod>)[method];
    if (!fn) return Promise.reject(ThreadStoreError.internal(`unknown remote method ${method}`));
    return new Promise<Res>((resolve, reject) => {
      fn.call(
        this.client,
        request,
        this.metadata(),
        { deadline: Date.now() + this.callTimeoutMs },
        (error, response) => {
          if (error) reject(fromServiceError(error, threadId));
          else resolve(response as Res);
        },
      );
    });
  }

  private async threadResponse(
    method: string,
    request: unknown,
    threadId: string,
    label: string,
  ): Promise<StoredThread> {
    const response = await this.call<StoredThreadResponseMessage>(method, request, threadId);
    if (!response.thread) {
      throw ThreadStoreError.internal(`remote thread store omitted ${label} response thread`);
    }
    return storedThreadFromMessage(response.thread);
  }

  private async jsonCall<S extends z.ZodType>(
    method: string,
    params: unknown,
    schema: S,
    threadId?: string,
  ): Promise<z.output<S>> {
    const response = await this.call<JsonResponseMessage>(
      method,
      { params_json: JSON.stringify(params) },
      threadId,
    );
    return parseJsonField(schema, response.result_json, 'result_json');
  }

  async createThread(params: CreateThreadParams): Promise<void> {
    await this.ensureSession();
    await this.call('CreateThread', createThreadToMessage(params), params.threadId);
  }

  async resumeThread(params: ResumeThreadParams): Promise<void> {
    if (params.rolloutPath != null) {
      throw ThreadStoreError.invalidRequest(
        'remote thread store does not accept rollout paths; resume by thread id',
      );
    }
    await this.ensureSession();
    await this.call('ResumeThread', resumeThreadToMessage(params), params.threadId);
  }

  async appendItems(params: AppendThreadItemsParams): Promise<void> {
    await this.call(
      'AppendItems',
      { thread_id: params.threadId, items_json: encodeItems(params.items) },
      params.threadId,
    );
  }

  async persistThread(threadId: ThreadId): Promise<void> {
    await this.call('PersistThread', { thread_id: threadId }, threadId);
  }

  async flushThread(threadId: ThreadId): Promise<void> {
    await this.call('FlushThread', { thread_id: threadId }, threadId);
  }

  async shutdownThread(threadId: ThreadId): Promise<void> {
    await this.call('ShutdownThread', { thread_id: threadId }, threadId);
  }

  async discardThread(threadId: ThreadId): Promise<void> {
    await this.call('DiscardThread', { thread_id: threadId }, threadId);
  }

  async loadHistory(params: LoadThreadHistoryParams): Promise<StoredThreadHistory> {
    const response = await this.call<StoredThreadHistoryMessage>(
      'LoadHistory',
      { thread_id: params.threadId, include_archived: params.includeArchived === true },
      params.threadId,
    );
    return historyFromMessage(response);
  }

  async readThread(params: ReadThreadParams): Promise<StoredThread> {
    return this.threadResponse(
      'ReadThread',
      {
        thread_id: params.threadId,
        include_archived: params.includeArchived === true,
        include_history: params.includeHistory === true,
      },
      params.threadId,
      'read_thread',
    );
  }

  async readThreadByRolloutPath(_params: ReadThreadByRolloutPathParams): Promise<StoredThread> {
    throw ThreadStoreError.invalidRequest(
      'remote thread store does not support read_thread_by_rollout_path',
    );
  }

  async listThreads(params: ListThreadsParams): Promise<ThreadPage> {
    const response = await this.call<ListThreadsResponseMessage>(
      'ListThreads',
      listThreadsToMessage(params),
    );
    return threadPageFromMessage(response);
  }

  override async searchThreads(params: SearchThreadsParams): Promise<ThreadSearchPage> {
    // The stores' own checks, before the wire (whose schema would word them differently).
    const { pageSize } = validateSearchParams(params);
    return (await this.jsonCall(
      'SearchThreads',
      { ...params, pageSize },
      threadSearchPageSchema,
    )) as ThreadSearchPage;
  }

  override async listTurns(params: ListTurnsParams): Promise<TurnPage> {
    return (await this.jsonCall('ListTurns', params, turnPageSchema, params.threadId)) as TurnPage;
  }

  override async listItems(params: ListItemsParams): Promise<ItemPage> {
    return (await this.jsonCall('ListItems', params, itemPageSchema, params.threadId)) as ItemPage;
  }

  async updateThreadMetadata(params: UpdateThreadMetadataParams): Promise<StoredThread> {
    return this.threadResponse(
      'UpdateThreadMetadata',
      {
        thread_id: params.threadId,
        patch: patchToMessage(params.patch),
        include_archived: params.includeArchived === true,
      },
      params.threadId,
      'update_thread_metadata',
    );
  }

  async archiveThread(params: ArchiveThreadParams): Promise<void> {
    await this.call('ArchiveThread', { thread_id: params.threadId }, params.threadId);
  }

  async unarchiveThread(params: ArchiveThreadParams): Promise<StoredThread> {
    return this.threadResponse(
      'UnarchiveThread',
      { thread_id: params.threadId },
      params.threadId,
      'unarchive_thread',
    );
  }

  async deleteThread(params: DeleteThreadParams): Promise<void> {
    await this.call('DeleteThread', { thread_id: params.threadId }, params.threadId);
  }
}
