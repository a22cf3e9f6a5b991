/**
 * What every recorded home must contain for the differential tests to mean something: the
 * behaviours of the spec, each on a thread the manifest names. Returns what is missing.
 */
import type { RecordedManifest } from './verify-recorded-home.js';

export function missingCoverage(manifest: RecordedManifest): string[] {
  const missing: string[] = [];
  const need = (what: string, ok: boolean) => {
    if (!ok) missing.push(what);
  };
  const threads = manifest.threads;
  const on = threads.filter((thread) => thread.persisted);
  const byKey = new Map(threads.map((thread) => [thread.key, thread]));
  const role = (name: string) => byKey.get(manifest.roles[name] ?? '');
  const newest = manifest.codexVersions.at(-1) ?? manifest.codexVersion;
  const modern = newest.startsWith('0.169');

  need('a fork', role('fork')?.forkedFromId !== null && role('fork') !== undefined);
  need('a fork of a fork', role('forkOfFork')?.forkedFromId === role('fork')?.id);
  need('a sub-agent', role('child')?.parentThreadId === role('parent')?.id);
  need('a grandchild sub-agent', role('grandchild')?.parentThreadId === role('child')?.id);
  need(
    'an archived parent with an archived child',
    role('archivedParent')?.archived === true && role('archivedChild')?.archived === true,
  );
  need('an unarchived parent', role('unarchivedParent')?.archived === false);
  need('a git metadata update', role('metadataUpdated')?.gitInfo?.branch?.length !== undefined);
  need('cleared git metadata', role('metadataCleared')?.gitInfo === null);
  need(
    'a unicode name',
    [...(role('unicodeNamed')?.name ?? '')].some((char) => char.codePointAt(0)! > 127),
  );
  need(
    'a renamed thread',
    (role('renamed')?.actions as unknown[] | undefined)?.filter((a) =>
      String(a).includes('thread/name/set'),
    ).length === 2,
  );
  need('cleared git metadata on a legacy thread', role('legacyMetadataCleared')?.gitInfo === null);
  need('a renamed legacy thread', role('legacyRenamed')?.name?.endsWith('(day two)') === true);
  need(
    'a thread with 30+ turns',
    threads.some((thread) => thread.turnCount >= 30),
  );
  need(
    'an ephemeral thread',
    threads.some((thread) => thread.ephemeral && !thread.persisted),
  );
  need(
    'a never-messaged thread',
    threads.some(
      (thread) =>
        !thread.ephemeral && !thread.persisted && thread.turnCount === 0 && !thread.deleted,
    ),
  );
  need('a second model provider', new Set(on.map((thread) => thread.modelProvider)).size >= 2);
  need(
    'an exec thread',
    on.some((thread) => thread.source === 'exec'),
  );
  need(
    'a cli thread',
    on.some((thread) => thread.source === 'cli'),
  );
  need(
    'an archived thread',
    on.some((thread) => thread.archived),
  );
  need('several projects', new Set(on.map((thread) => thread.cwd)).size >= 4);
  need(
    'injected items',
    threads.some((thread) => JSON.stringify(thread).includes('thread/inject_items')),
  );
  need(
    'rollouts on two local days',
    new Set(
      Object.keys(manifest.files)
        .map((rel) => /^sessions\/(\d{4}\/\d{2}\/\d{2})\//.exec(rel)?.[1])
        .filter(Boolean),
    ).size >= 2,
  );
  if (modern) {
    need('paginated and legacy threads', new Set(on.map((thread) => thread.historyMode)).size >= 2);
    need(
      'a deleted thread',
      threads.some((thread) => thread.deleted),
    );
    need(
      'read and unread receipts',
      on.some((thread) => thread.readState?.firstUnread?.type === 'threadStart') &&
        on.some(
          (thread) =>
            thread.readState?.firstUnread === null &&
            !thread.readState.revision.startsWith('initial:'),
        ),
    );
  }
  return missing;
}
