import { defaultThreadMetadata, parseThreadId, type ThreadMetadata } from '@skein/state';
import { describe, expect, it } from 'vitest';
import type { ExtractOutcome } from '../src/state-db/extract.js';
import { decodeOutcome, encodeOutcome, type FlatValue } from '../src/state-db/row-transfer.js';

/** Metadata whose fields all differ from one another (a value in the wrong slot shows). */
function distinctMetadata(n: number): ThreadMetadata {
  const id = parseThreadId(`00000000-0000-7000-8000-0000000000${String(n).padStart(2, '0')}`)!;
  const metadata = defaultThreadMetadata(id, `/h/r${n}.jsonl`, 1_000 + n, `source-${n}`, `p${n}`);
  for (const [slot, key] of (Object.keys(metadata) as (keyof ThreadMetadata)[]).entries()) {
    const value = metadata[key];
    if (key === 'id' || key === 'rolloutPath' || key === 'memoryMode' || key === 'historyMode')
      continue;
    (metadata as unknown as Record<string, unknown>)[key] =
      typeof value === 'number'
        ? 2_000 + n * 100 + slot
        : typeof value === 'boolean'
          ? !value
          : `${key}-${n}-${slot}-é世`;
  }
  metadata.memoryMode = 'polluted';
  metadata.historyMode = 'paginated';
  return metadata;
}

describe('row transfer (the reader thread sends rows as flat values)', () => {
  it('decodes every outcome exactly as it was encoded, in order', () => {
    const withLegacy = distinctMetadata(1);
    withLegacy.sandboxPolicyLegacy = '{"type":"read-only"}';
    const withoutLegacy = distinctMetadata(2);
    expect('sandboxPolicyLegacy' in withoutLegacy).toBe(false);
    const outcomes: ExtractOutcome[] = [
      {
        ok: true,
        entry: { metadata: withLegacy, setMemoryMode: 'disabled' },
        inheritsPreviewFrom: 'base-thread',
      },
      { ok: false, path: '/h/broken.jsonl', error: 'empty session file: /h/broken.jsonl' },
      { ok: true, entry: { metadata: withoutLegacy }, inheritsPreviewFrom: null },
    ];
    const flat: FlatValue[] = [];
    for (const outcome of outcomes) encodeOutcome(outcome, flat);
    // What postMessage does to it on the way.
    const received = structuredClone(flat);
    const decoded: ExtractOutcome[] = [];
    let at = 0;
    while (at < received.length) {
      const next = decodeOutcome(received, at);
      decoded.push(next.outcome!);
      at = next.next;
    }
    expect(decoded).toStrictEqual(outcomes);
    const second = decoded[2];
    expect(second?.ok && 'sandboxPolicyLegacy' in second.entry.metadata).toBe(false);
    expect(second?.ok && 'setMemoryMode' in second.entry).toBe(false);
  });
});
