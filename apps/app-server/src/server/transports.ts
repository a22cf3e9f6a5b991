/** The two transports: newline-delimited JSON on stdio, and websocket text frames. */
import { createInterface } from 'node:readline';
import type { AppServer } from './app-server.js';

/** Serves one connection over stdin/stdout; resolves when stdin ends. */
export function serveStdio(
  server: AppServer,
  input: NodeJS.ReadableStream = process.stdin,
  output: NodeJS.WritableStream = process.stdout,
): Promise<void> {
  const connection = server.open({
    send: (text) => {
      output.write(`${text}\n`);
    },
    close: () => {},
  });
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    void server.receive(connection, line);
  });
  return new Promise((resolveDone) => {
    lines.on('close', () => {
      void server.idle().then(() => {
        server.close(connection);
        resolveDone();
      });
    });
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

/** Accepts websocket connections, one JSON-RPC message per text frame. */
export async function serveWebSocket(server: AppServer, url: string): Promise<WebSocketListener> {
  const { host, port } = parseListenUrl(url);
  // Loaded only when listening on a socket: stdio sessions start faster without it.
  const { WebSocketServer } = await import('ws');
  const wss = new WebSocketServer({ host, port });
  wss.on('connection', (socket) => {
    const connection = server.open({
      send: (text) => socket.send(text),
      close: () => socket.close(),
    });
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      void server.receive(connection, data.toString());
    });
    socket.on('close', () => server.close(connection));
    socket.on('error', () => server.close(connection));
  });
  return new Promise((resolveListening, reject) => {
    wss.once('error', reject);
    wss.once('listening', () => {
      const address = wss.address();
      const bound = typeof address === 'object' && address !== null ? address.port : port;
      const shownHost = host.includes(':') ? `[${host}]` : host;
      resolveListening({
        url: `ws://${shownHost}:${bound}`,
        close: () =>
          new Promise((done) => {
            for (const client of wss.clients) client.terminate();
            wss.close(() => done());
          }),
      });
    });
  });
}
