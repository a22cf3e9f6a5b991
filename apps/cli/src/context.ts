import { resolve } from 'node:path';
import type { ThreadId } from '@skein/thread-store';
import { CliError } from './errors.js';
import { type ResolvedHome, resolveHome } from './home.js';
import type { CliIo } from './io.js';
import type { Output } from './output.js';
import type { Services } from './services-contract.js';
import { resolveThreadRef } from './thread-ref.js';

export interface CommandContext {
  readonly out: Output;
  /** The run's environment, input and working directory (never `process.*` directly). */
  readonly io: CliIo;
  /** The home, resolved (and the demo home created) on first call. */
  home(): Promise<ResolvedHome>;
  services(): Promise<Services>;
  /** Resolves a thread id, unique id prefix or name to an id, or fails NotFound/Usage. */
  resolveThread(ref: string): Promise<ThreadId>;
  close(): Promise<void>;
}

/**
 * Where the threads live: the local Codex home (files + SQLite index), or a store reached by
 * URL (`postgres://…`, `grpc://HOST:PORT`) through `openThreadStore`.
 */
export type StoreSpec = { kind: 'local' } | { kind: 'remote'; spec: string };

/**
 * `--store`: absent or `local` is the Codex home, a `postgres://` / `grpc://` / `grpcs://` URL
 * a remote store (token and CA from SKEIN_STORE_TOKEN[_FILE] / SKEIN_STORE_CA_FILE), anything else a path to another Codex home (as `--codex-home`). Recognised by
 * scheme here, so that `--help` and home-only commands never load the remote clients.
 */
export function parseStoreSpec(
  value: string | undefined,
): StoreSpec & { spec: string; homePath?: string } {
  if (value === undefined || value === '' || value === 'local')
    return { kind: 'local', spec: 'local' };
  if (/^(postgres(ql)?|grpcs?):\/\//i.test(value)) return { kind: 'remote', spec: value };
  return { kind: 'local', spec: value, homePath: value };
}

export function createContext(options: {
  out: Output;
  io: CliIo;
  homeFlag: string | undefined;
  store: ReturnType<typeof parseStoreSpec>;
  allowCreateHome: boolean;
}): CommandContext {
  const { out, io } = options;
  let home: Promise<ResolvedHome> | undefined;
  let services: Promise<Services> | undefined;

  const getHome = (): Promise<ResolvedHome> => {
    home ??= (async () => {
      const resolved = resolveHome(options.store.homePath ?? options.homeFlag, {
        allowCreate: options.allowCreateHome,
        env: io.env,
        cwd: io.cwd,
      });
      if (resolved.origin === 'demo') {
        const { ensureDemoHome } = await import('./demo-home.js');
        const demo = await ensureDemoHome(resolved.path);
        out.note(
          demo.created
            ? `No Codex home found (~/.codex does not exist and CODEX_HOME is not set).\nCreated a demo home with ${demo.threads} sample threads at ${resolved.path} and using it.\nPoint skein at a real home with --codex-home DIR or CODEX_HOME.`
            : `Using the demo home at ${resolved.path} (no ~/.codex; set CODEX_HOME or pass --codex-home for a real one).`,
        );
      }
      return resolved;
    })();
    return home;
  };

  // The home whose config.toml names a remote store's default provider: the flag, else this
  // run's CODEX_HOME ('' = none, so the store wiring never falls back to process.env).
  const namedHome = options.homeFlag ?? io.env.CODEX_HOME;
  const configHome = namedHome ? resolve(io.cwd, namedHome) : '';

  const ctx: CommandContext = {
    out,
    io,
    home: getHome,
    services() {
      const store = options.store;
      services ??=
        store.kind === 'remote'
          ? import('./services.js').then(({ buildStoreServices }) =>
              buildStoreServices(store.spec, configHome),
            )
          : getHome().then(async (resolved) => {
              const { buildServices } = await import('./services.js');
              return buildServices(resolved, out);
            });
      return services;
    },
    async resolveThread(ref) {
      const built = await ctx.services();
      return resolveThreadRef(ref, {
        byId: async (id) => ((await built.threadExists(id)) ? id : null),
        byName: (name) => built.threadIdByName(name),
        byPrefix: (prefix) => built.threadIdsWithPrefix(prefix),
      });
    },
    async close() {
      if (services) {
        const built = await services.catch(() => undefined);
        await built?.close();
      }
    },
  };
  return ctx;
}

export function notImplemented(what: string): never {
  throw CliError.failure(`${what} is not available in this build`);
}
