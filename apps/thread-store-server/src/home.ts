import type { OpenedThreadStore } from '@skein/thread-store-remote';

/** A Codex home as a store: the state handle built once (initStateDb) and a LocalThreadStore. */
export async function openHomeStore(
  codexHome: string,
  defaultProvider: string,
): Promise<Omit<OpenedThreadStore, 'kind'>> {
  void defaultProvider;
  throw new Error(`serving a Codex home (${codexHome}) needs LocalThreadStore, not built yet`);
}
