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
type LocalThreadStoreClass = new (options: {
  codexHome: string;
  stateDb: StateDb | undefined;
  defaultModelProvider: string;
}) => ThreadStore & {
  readThreadByRolloutPath: ThreadStore['readThreadByRolloutPath'];
};

function lookup<T>(module: object, name: string, from: string): T {
  const value = (module as Record<string, unknown>)[name];
  if (value === undefined) throw CliError.failure(`${from} does not export ${name} yet`);
  return value as T;
}

export function initStateDb(options: InitStateDbOptions): Promise<StateDb | undefined> {
  return lookup<InitStateDb>(rollout, 'initStateDb', '@skein/rollout')(options);
}

export function createLocalThreadStore(options: {
  codexHome: string;
  stateDb: StateDb | undefined;
  defaultModelProvider: string;
}): ThreadStore {
  const LocalThreadStore = lookup<LocalThreadStoreClass>(
    threadStorePackage,
    'LocalThreadStore',
    '@skein/thread-store',
  );
  return new LocalThreadStore(options);
}
