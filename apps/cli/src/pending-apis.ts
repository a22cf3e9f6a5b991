import * as rollout from '@skein/rollout';
import type { StateDb } from '@skein/state';
import type { ThreadStore } from '@skein/thread-store';
import * as threadStorePackage from '@skein/thread-store';
import { CliError } from './errors.js';

/**
 * Bridge to APIs that the layers below are still landing (`initStateDb` in rollout,
 * `LocalThreadStore` in thread-store). Looked up at run time so the CLI builds before they
 * exist; replaced by plain imports once they do.
 */
export interface InitStateDbProgress {
  totalFiles: number;
  totalBytes: number;
  doneFiles: number;
  doneBytes: number;
}

export interface InitStateDbOptions {
  codexHome: string;
  defaultProvider: string;
  onProgress?: (progress: InitStateDbProgress) => void;
  onWarning?: (message: string) => void;
}

type InitStateDb = (options: InitStateDbOptions) => Promise<StateDb | undefined>;
type LocalThreadStoreClass = new (
  config: { codexHome: string; defaultModelProvider: string; warn?: (message: string) => void },
  stateDb?: StateDb,
) => ThreadStore;

function lookup<T>(module: object, name: string, from: string): T {
  const value = (module as Record<string, unknown>)[name];
  if (value === undefined) throw CliError.failure(`${from} does not export ${name} yet`);
  return value as T;
}

/** `initStateDb` when rollout has it; until then the CLI runs filesystem-only (no handle). */
export async function initStateDb(options: InitStateDbOptions): Promise<StateDb | undefined> {
  const init = (rollout as Record<string, unknown>).initStateDb as InitStateDb | undefined;
  if (init === undefined) return undefined;
  return init(options);
}

export function createLocalThreadStore(options: {
  codexHome: string;
  stateDb: StateDb | undefined;
  defaultModelProvider: string;
  warn: (message: string) => void;
}): ThreadStore {
  const LocalThreadStore = lookup<LocalThreadStoreClass>(
    threadStorePackage,
    'LocalThreadStore',
    '@skein/thread-store',
  );
  const { stateDb, ...config } = options;
  return new LocalThreadStore(config, stateDb);
}

/** Whether the state index can be built in this build (rollout exports `initStateDb`). */
export function hasInitStateDb(): boolean {
  return typeof (rollout as Record<string, unknown>).initStateDb === 'function';
}
