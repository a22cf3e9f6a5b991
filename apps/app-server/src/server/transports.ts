/**
 * The two transports: newline-delimited JSON on stdio, and websocket text frames on a
 * listener that is private by default (loopback, no browser origins, bounded messages; auth
 * required off loopback).
 */
import { createServer, type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { AppServer } from './app-server.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './limits.js';
import { hostHeaderName, isLoopbackHost } from './loopback.js';
import { authorizeUpgrade, type WsAuth } from './ws-auth.js';

/** What a bounded reader keeps of an over-long line: enough to find its request id. */
const OVERSIZED_PREFIX_BYTES = 4096;

/**
 * Serves one connection over stdin/stdout; resolves when stdin ends. Lines are read as bytes
 * and bounded like websocket messages: a line over `maxLineBytes` is never held in memory (only
 * its first bytes, for its id); it is answered with a clear error and the next line is read.
 */
export function serveStdio(
  server: AppServer,
  input: NodeJS.ReadableStream = process.stdin,
  output: NodeJS.WritableStream = process.stdout,
  maxLineBytes: number = DEFAULT_MAX_MESSAGE_BYTES,
): Promise<void> {
  const connection = server.open({
    send: (text) => {
      output.write(`${text}\n`);
    },
    close: () => {},
  });
  let parts: Buffer[] = [];
  let length = 0;
  /** The first bytes of a line past the bound, while the rest of it is skipped. */
  let oversized: Buffer | null = null;
  const finishLine = () => {
    if (oversized !== null) {
      void server.rejectOversized(connection, oversized.toString('utf8'), maxLineBytes);
    } else {
      let line = Buffer.concat(parts, length).toString('utf8');
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line.trim() !== '') void server.receive(connection, line);
    }
    parts = [];
    length = 0;
    oversized = null;
  };
  const take = (chunk: Buffer) => {
    if (oversized !== null) return;
    if (length + chunk.length > maxLineBytes) {
      oversized = Buffer.concat([...parts, chunk]).subarray(0, OVERSIZED_PREFIX_BYTES);
      parts = [];
      length = 0;
      return;
    }
    parts.push(chunk);
    length += chunk.length;
  };
  input.on('data', (data: Buffer | string) => {
    let chunk = typeof data === 'string' ? Buffer.from(data) : data;
    for (let newline = chunk.indexOf(0x0a); newline >= 0; newline = chunk.indexOf(0x0a)) {
      take(chunk.subarray(0, newline));
      finishLine();
      chunk = chunk.subarray(newline + 1);
    }
    if (chunk.length > 0) take(chunk);
  });
  return new Promise((resolveDone) => {
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      // A last line without a newline is still a message.
      if (length > 0 || oversized !== null) finishLine();
      void server.idle().then(() => {
        server.close(connection);
        resolveDone();
      });
    };
    input.on('end', end);
    input.on('close', end);
  });
}

/**
 * A listening WebSocket transport: the URL it bound (port resolved when 0 was asked for) and how
 * to stop it.
 */
export interface WebSocketListener {
  readonly url: string;
  close(): Promise<void>;
}

export { DEFAULT_MAX_MESSAGE_BYTES } from './limits.js';

export interface WebSocketOptions {
  /** Credentials every upgrade must present; required for a non-loopback bind. */
  auth?: WsAuth | null;
  /** Largest incoming message, in bytes (default `DEFAULT_MAX_MESSAGE_BYTES`). */
  maxMessageBytes?: number;
  log?: (line: string) => void;
}

/** Parses `ws://HOST:PORT` (port 0 = any free port). */
export function parseListenUrl(url: string): { host: string; port: number } {
  const match = /^ws:\/\/(\[[^\]]+\]|[^:/]+):(\d+)\/?$/.exec(url);
  if (match?.[1] === undefined || match[2] === undefined) {
    throw new Error(
      `invalid --listen URL ${JSON.stringify(url)}: expected ws://IP:PORT or stdio://`,
    );
  }
  return { host: match[1].replace(/^\[|\]$/g, ''), port: Number(match[2]) };
}

/**
 * Decision 7 of ARCHITECTURE.md: a listener reachable from other machines must authenticate.
 * Throws the error `main` prints when `url` is not loopback and no auth is configured.
 */
export function checkListenPolicy(url: string, auth: WsAuth | null | undefined): void {
  const { host } = parseListenUrl(url);
  if (!isLoopbackHost(host) && !auth) {
    throw new Error(
      `refusing to listen on ${url} without authentication: a non-loopback websocket listener ` +
        'needs --ws-auth capability-token (--ws-token-file or --ws-token-sha256) or ' +
        '--ws-auth signed-bearer-token (--ws-shared-secret-file); or listen on ws://127.0.0.1:PORT',
    );
  }
}

/** Why an HTTP request to the listener is turned away before any JSON-RPC is read. */
interface Refusal {
  status: number;
  body: string;
}

/**
 * Browsers always send `Origin` on websocket upgrades and scripts cannot remove it, so like
 * 0.169.0 any request that carries one is refused: no web page can drive the app-server, even
 * one served from localhost. On a loopback bind the `Host` must name this machine too.
 */
function admissionRefusal(request: IncomingMessage, loopbackBind: boolean): Refusal | null {
  if (request.headers.origin !== undefined) return { status: 403, body: '' };
  if (loopbackBind) {
    const host = request.headers.host;
    if (host === undefined) return { status: 400, body: 'missing Host header' };
    const name = hostHeaderName(host);
    if (name === null || !isLoopbackHost(name)) {
      return { status: 403, body: 'Host header does not name a loopback address' };
    }
  }
  return null;
}

function refuse(socket: Duplex, { status, body }: Refusal): void {
  const length = Buffer.byteLength(body);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'Connection: close\r\n' +
      (length > 0 ? 'Content-Type: text/plain; charset=utf-8\r\n' : '') +
      `Content-Length: ${length}\r\n\r\n${body}`,
  );
}

/**
 * Accepts websocket connections, one JSON-RPC message per text frame. Upgrades are admitted
 * (Origin, Host, then credentials) before the websocket exists; `/readyz` and `/healthz`
 * answer plain GETs with 200 as 0.169.0 does. A message over the size limit closes that
 * connection with 1009 (Message Too Big) and a reason; the server and other clients go on.
 */
export async function serveWebSocket(
  server: AppServer,
  url: string,
  options: WebSocketOptions = {},
): Promise<WebSocketListener> {
  const { host, port } = parseListenUrl(url);
  const auth = options.auth ?? null;
  checkListenPolicy(url, auth);
  const loopbackBind = isLoopbackHost(host);
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const log = options.log ?? (() => {});
  // Loaded only when listening on a socket: stdio sessions start faster without it.
  const { WebSocketServer } = await import('ws');
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxMessageBytes });
  const http = createServer((request, response) => {
    const refusal = admissionRefusal(request, loopbackBind);
    const path = (request.url ?? '/').split('?')[0];
    const probe = request.method === 'GET' && (path === '/readyz' || path === '/healthz');
    const { status, body } = refusal ?? (probe ? { status: 200, body: '' } : NOT_A_WEBSOCKET);
    response.writeHead(status, {
      'content-length': Buffer.byteLength(body),
      ...(body === '' ? {} : { 'content-type': 'text/plain; charset=utf-8' }),
    });
    response.end(body);
  });
  http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    const refusal = admissionRefusal(request, loopbackBind);
    const denied = refusal ?? (auth ? authorizeUpgrade(request.headers, auth) : null);
    if (denied !== null) {
      if (typeof denied === 'string') log(`websocket upgrade refused (401): ${denied}`);
      refuse(socket, typeof denied === 'string' ? { status: 401, body: denied } : denied);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  });
  wss.on('connection', (socket: WebSocket) => {
    const connection = server.open({
      send: (text) => socket.send(text),
      close: () => socket.close(),
    });
    // ws closes an oversized message with a bare 1009; say why in the close frame.
    const close = socket.close.bind(socket);
    socket.close = (code?: number, reason?: string | Buffer) =>
      close(
        code,
        code === 1009 && reason === undefined
          ? `message larger than ${maxMessageBytes} bytes`
          : reason,
      );
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      void server.receive(connection, data.toString());
    });
    socket.on('close', () => server.close(connection));
    socket.on('error', (error) => {
      log(`websocket ${connection.id} closed: ${error.message}`);
      server.close(connection);
    });
  });
  return new Promise((resolveListening, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => {
      http.off('error', reject);
      const address = http.address();
      const bound = typeof address === 'object' && address !== null ? address.port : port;
      const shownHost = host.includes(':') ? `[${host}]` : host;
      resolveListening({
        url: `ws://${shownHost}:${bound}`,
        close: () =>
          new Promise((done) => {
            for (const client of wss.clients) client.terminate();
            wss.close();
            http.close(() => done());
            http.closeAllConnections();
          }),
      });
    });
  });
}

const NOT_A_WEBSOCKET: Refusal = { status: 426, body: 'expected a websocket upgrade' };
