/**
 * Validates wire messages against the JSON schema the real `codex app-server
 * generate-json-schema` (0.169.0) prints, generated once per test run into a temp dir.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCodexCli, makeTempDir } from '@skein/test-support';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const RESPONSE_SCHEMAS: Record<string, string> = {
  initialize: 'v1/InitializeResponse.json',
  'thread/start': 'v2/ThreadStartResponse.json',
  'thread/resume': 'v2/ThreadResumeResponse.json',
  'thread/fork': 'v2/ThreadForkResponse.json',
  'thread/read': 'v2/ThreadReadResponse.json',
  'thread/list': 'v2/ThreadListResponse.json',
  'thread/loaded/list': 'v2/ThreadLoadedListResponse.json',
  'thread/archive': 'v2/ThreadArchiveResponse.json',
  'thread/unarchive': 'v2/ThreadUnarchiveResponse.json',
  'thread/delete': 'v2/ThreadDeleteResponse.json',
  'thread/unsubscribe': 'v2/ThreadUnsubscribeResponse.json',
  'thread/name/set': 'v2/ThreadSetNameResponse.json',
  'thread/metadata/update': 'v2/ThreadMetadataUpdateResponse.json',
  'thread/turns/list': 'v2/ThreadTurnsListResponse.json',
  'thread/inject_items': 'v2/ThreadInjectItemsResponse.json',
  'thread/items/list': 'v2/ThreadItemsListResponse.json',
};

const NOTIFICATION_SCHEMAS: Record<string, string> = {
  'thread/started': 'v2/ThreadStartedNotification.json',
  'thread/status/changed': 'v2/ThreadStatusChangedNotification.json',
  'thread/name/updated': 'v2/ThreadNameUpdatedNotification.json',
  'thread/archived': 'v2/ThreadArchivedNotification.json',
  'thread/unarchived': 'v2/ThreadUnarchivedNotification.json',
  'thread/deleted': 'v2/ThreadDeletedNotification.json',
  'thread/closed': 'v2/ThreadClosedNotification.json',
  deprecationNotice: 'v2/DeprecationNoticeNotification.json',
  'thread/tokenUsage/updated': 'v2/ThreadTokenUsageUpdatedNotification.json',
  'thread/goal/cleared': 'v2/ThreadGoalClearedNotification.json',
};

export class CodexSchema {
  readonly #ajv: Ajv;
  readonly #compiled = new Map<string, ValidateFunction>();
  /** How many messages were checked (a test can assert the validator actually ran). */
  checked = 0;

  constructor(readonly dir: string) {
    this.#ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(this.#ajv);
    for (const format of ['int32', 'int64', 'uint', 'uint16', 'uint32', 'uint64', 'double']) {
      this.#ajv.addFormat(format, { type: 'number', validate: () => true });
    }
  }

  /** Runs the real binary's generator into a fresh temp dir. */
  static generate(): CodexSchema {
    const cli = ensureCodexCli('0.169.0');
    const dir = makeTempDir('skein-codex-schema-');
    const home = makeTempDir('skein-schema-home-');
    execFileSync(cli.binary, ['app-server', 'generate-json-schema', '--out', dir], {
      env: { ...process.env, CODEX_HOME: home },
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 60_000,
    });
    if (!existsSync(join(dir, 'v2', 'ThreadListResponse.json')))
      throw new Error(`no schema generated in ${dir}`);
    return new CodexSchema(dir);
  }

  #validator(file: string): ValidateFunction {
    let validate = this.#compiled.get(file);
    if (validate === undefined) {
      validate = this.#ajv.compile(
        JSON.parse(readFileSync(join(this.dir, file), 'utf8')) as object,
      );
      this.#compiled.set(file, validate);
    }
    return validate;
  }

  #check(file: string, value: unknown, what: string): void {
    const validate = this.#validator(file);
    this.checked += 1;
    if (!validate(value)) {
      throw new Error(
        `${what} does not match ${file}: ${this.#ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 1500)}`,
      );
    }
  }

  knowsResponse(method: string): boolean {
    return method in RESPONSE_SCHEMAS;
  }

  knowsNotification(method: string): boolean {
    return method in NOTIFICATION_SCHEMAS;
  }

  /** Validates a response to `method` (errors against JSONRPCError). */
  response(method: string, message: Record<string, unknown>): void {
    if ('error' in message) {
      this.#check('JSONRPCError.json', message, `error answer to ${method}`);
      return;
    }
    const file = RESPONSE_SCHEMAS[method];
    if (file === undefined) throw new Error(`no schema mapped for ${method}`);
    this.#check(file, message.result, `result of ${method}`);
  }

  notification(message: Record<string, unknown>): void {
    const method = String(message.method);
    const file = NOTIFICATION_SCHEMAS[method];
    if (file === undefined) throw new Error(`no schema mapped for notification ${method}`);
    if (typeof message.emittedAtMs !== 'number' || !Number.isInteger(message.emittedAtMs)) {
      throw new Error(`notification ${method} lacks an integer emittedAtMs`);
    }
    this.#check(file, message.params, `notification ${method}`);
  }
}

let shared: CodexSchema | undefined;

/** The schema generated by the global setup for this run (one validator per test file). */
export function codexSchema(dir: string): CodexSchema {
  shared ??= new CodexSchema(dir);
  return shared;
}

/**
 * Validates every answer and notification a client received. Answers to methods outside the
 * thread API (unknown-method probes) are checked against the JSON-RPC error schema only.
 */
export function validateReceived(
  schema: CodexSchema,
  received: readonly Record<string, unknown>[],
  methods: ReadonlyMap<string, string>,
): number {
  let count = 0;
  for (const message of received) {
    if (typeof message.method === 'string') {
      schema.notification(message);
    } else {
      const method = methods.get(String(message.id)) ?? 'unknown';
      if ('error' in message || method in RESPONSE_SCHEMAS) schema.response(method, message);
      else continue;
    }
    count += 1;
  }
  return count;
}
