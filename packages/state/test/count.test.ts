import { makeTempDir } from '@skein/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import {
  countListableThreads,
  countListableThreadsWithin,
  setThreadArchived,
  upsertThread,
} from '../src/index.js';
import { closeOpened, openRuntime, sampleThread } from './helpers.js';

afterEach(closeOpened);

describe('countListableThreadsWithin', () => {
  // Both schemas: 0.169 keeps names in a column 0.131 lacks.
  it.each(['0.131.0', '0.169.0'])(
    'counts a listing and a narrower one in one scan, as two counts would (%s schema)',
    async (schema) => {
      const runtime = await openRuntime(makeTempDir(), schema);
      const rows = [
        { source: 'cli', modelProvider: 'openai' },
        { source: 'cli', modelProvider: '' }, // counts as the default provider's
        { source: 'vscode', modelProvider: 'azure' },
        { source: 'exec', modelProvider: 'openai' },
        { source: 'cli', modelProvider: 'openai', preview: '', firstUserMessage: '' }, // not listed
        { source: 'cli', modelProvider: 'openai', archive: true },
        { source: 'vscode', modelProvider: 'openai', cwd: '/elsewhere' },
      ];
      for (const { archive, ...row } of rows as { archive?: boolean }[]) {
        const thread = sampleThread(row);
        await upsertThread(runtime.ctx, thread);
        if (archive) {
          await setThreadArchived(runtime.ctx, thread.id, {
            archived: true,
            rolloutPath: thread.rolloutPath,
          });
        }
      }
      const base = { archived: false, defaultProvider: 'openai', sources: [], providers: [] };
      const cases = [
        [
          { ...base, cwds: null },
          { sources: ['cli', 'vscode'], providers: ['openai'] },
        ],
        [
          { ...base, cwds: null },
          { sources: [], providers: ['azure'] },
        ],
        [
          { ...base, cwds: ['/home/dev/project'] },
          { sources: ['cli'], providers: [] },
        ],
        [
          { ...base, cwds: null, sources: ['cli', 'vscode'] },
          { sources: [], providers: [] },
        ],
        [
          { ...base, cwds: [] },
          { sources: ['cli'], providers: [] },
        ],
      ] as const;
      const counted = [];
      for (const [filter, narrower] of cases) {
        const both = await countListableThreadsWithin(runtime.ctx, filter, narrower);
        const alone = {
          all: await countListableThreads(runtime.ctx, filter),
          within: await countListableThreads(runtime.ctx, {
            ...filter,
            sources: narrower.sources.length > 0 ? narrower.sources : filter.sources,
            providers: narrower.providers.length > 0 ? narrower.providers : filter.providers,
          }),
        };
        expect(both).toEqual(alone);
        counted.push(both);
      }
      expect(counted).toEqual([
        { all: 5, within: 3 },
        { all: 5, within: 1 },
        { all: 4, within: 2 },
        { all: 4, within: 4 },
        { all: 0, within: 0 },
      ]);
    },
  );
});
