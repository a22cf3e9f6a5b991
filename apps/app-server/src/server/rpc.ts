/**
 * Decoding one incoming JSON-RPC message the way the Codex app-server does: the `jsonrpc`
 * member is optional; a line that is not a request, notification or response is logged and
 * dropped (0.169.0 sends nothing back for it and keeps serving).
 */

export type RequestId = string | number;

export type Incoming =
  | { kind: 'request'; id: RequestId; method: string; params: unknown; hasParams: boolean }
  | { kind: 'notification'; method: string; params: unknown }
  | { kind: 'response'; id: RequestId }
  | { kind: 'invalid'; reason: string };

function isRequestId(value: unknown): value is RequestId {
  return typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value));
}

export function decodeMessage(text: string): Incoming {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return {
      kind: 'invalid',
      reason: `Failed to deserialize JSONRPCMessage: ${(error as Error).message}`,
    };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { kind: 'invalid', reason: 'Failed to deserialize JSONRPCMessage: not an object' };
  }
  const record = value as Record<string, unknown>;
  const hasParams = 'params' in record && record.params !== null;
  if (typeof record.method === 'string') {
    if (record.id === undefined) {
      return { kind: 'notification', method: record.method, params: record.params };
    }
    if (isRequestId(record.id)) {
      return {
        kind: 'request',
        id: record.id,
        method: record.method,
        params: record.params,
        hasParams,
      };
    }
  } else if (isRequestId(record.id) && ('result' in record || 'error' in record)) {
    return { kind: 'response', id: record.id };
  }
  return {
    kind: 'invalid',
    reason:
      'Failed to deserialize JSONRPCMessage: data did not match any variant of untagged enum JSONRPCMessage',
  };
}
