/** One client connection (a stdio pipe or one websocket) and what it negotiated. */

/** Where a connection's outgoing lines go. */
export interface Outbound {
  send(text: string): void;
  close(): void;
}

export class Connection {
  /** Set by a successful `initialize`; requests before it fail "Not initialized". */
  initialized = false;
  experimentalApi = false;
  clientName = '';
  clientVersion = '';
  readonly optedOut = new Set<string>();
  closed = false;

  constructor(
    readonly id: string,
    private readonly outbound: Outbound,
  ) {}

  send(message: unknown): void {
    if (this.closed) return;
    this.outbound.send(JSON.stringify(message));
  }

  /** A server notification with its `emittedAtMs`, unless the client opted out of it. */
  notify(method: string, params: unknown, emittedAtMs = Date.now()): void {
    if (!this.initialized || this.optedOut.has(method)) return;
    this.send({ method, params, emittedAtMs });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.outbound.close();
  }
}
