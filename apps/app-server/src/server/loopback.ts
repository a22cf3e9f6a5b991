/**
 * What counts as "this machine" for the websocket listener: the bind address (a non-loopback
 * bind needs auth) and the `Host` header of requests to a loopback bind (DNS rebinding: a page
 * on `evil.example` whose name now resolves to 127.0.0.1 still sends `Host: evil.example`).
 */
import { isIP } from 'node:net';

/** True for 127.0.0.0/8, ::1 (in any spelling), IPv4-mapped 127.x, and the name `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const name = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (name === 'localhost') return true;
  const family = isIP(name);
  if (family === 4) return name.startsWith('127.');
  if (family !== 6) return false;
  // The URL parser canonicalises IPv6 (`0:0::1` → `::1`, `::ffff:127.0.0.1` → `::ffff:7f00:1`).
  const canonical = new URL(`http://[${name}]/`).hostname;
  return canonical === '[::1]' || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(canonical);
}

/** The host name of a `Host` header value (`name`, `name:port`, `[v6]`, `[v6]:port`). */
export function hostHeaderName(value: string): string | null {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(value);
  if (bracketed?.[1] !== undefined) return bracketed[1];
  const plain = /^([^:[\]]+)(?::\d+)?$/.exec(value);
  return plain?.[1] ?? null;
}
