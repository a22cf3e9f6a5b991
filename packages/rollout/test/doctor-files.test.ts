import {
  appendFileSync,
  copyFileSync,
  cpSync,
  readFileSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { makeTempDir } from '@skein/test-support';
import { describe, expect, it } from 'vitest';
import { diagnoseHome, repairHome } from '../src/index.js';
import { brief, recordedHome, rolloutBytes } from './doctor-helpers.js';

describe('doctor: the rollout files', () => {
  it('an empty rollout and one whose session_meta is malformed are problems nothing repairs', async () => {
    const { home, thread } = recordedHome();
    const p5 = thread('P5');
    const l3 = thread('L3');
    truncateSync(p5.file!, 0);
    const lines = readFileSync(l3.file!, 'utf8').split('\n');
    lines[0] = JSON.stringify({
      timestamp: '2026-12-06T15:12:14.000Z',
      type: 'session_meta',
      payload: { note: 'no id, no cwd' },
    });
    writeFileSync(l3.file!, lines.join('\n'));
    const diagnosis = await diagnoseHome({ codexHome: home });
    expect(brief(diagnosis.findings)).toEqual([
      expect.stringMatching(`^error empty-file sessions/2026/12/07/${basename(p5.file!)}: `),
      expect.stringMatching(`^error no-session-meta sessions/2026/12/07/${basename(l3.file!)}: `),
      expect.stringMatching(
        `^warning malformed-lines sessions/2026/12/07/${basename(l3.file!)}: .*line 1\\)`,
      ),
    ]);
    const bytes = rolloutBytes(home);
    const repair = await repairHome({ codexHome: home });
    expect(repair.findings.every((f) => !f.repaired && f.fix === null)).toBe(true);
    expect(brief(repair.after.findings)).toEqual(brief(diagnosis.findings));
    expect(rolloutBytes(home)).toEqual(bytes);
  });

  it('torn and unterminated last lines are warnings, left as evidence', async () => {
    const { home, thread } = recordedHome();
    const p9 = thread('P9');
    const p12 = thread('P12');
    appendFileSync(
      p9.file!,
      '{"timestamp":"2026-12-08T00:00:00.000Z","ordinal":99,"type":"event_m',
    );
    appendFileSync(
      p12.file!,
      '{"timestamp":"2026-12-08T00:00:00.000Z","type":"event_msg","payload":{"type":"note"}}',
    );
    const diagnosis = await diagnoseHome({ codexHome: home });
    expect(brief(diagnosis.findings)).toEqual([
      expect.stringMatching(`^warning torn-tail sessions/2026/12/07/${basename(p9.file!)}: `),
      expect.stringMatching(
        `^warning unterminated-tail sessions/2026/12/07/${basename(p12.file!)}: `,
      ),
    ]);
    expect(diagnosis.findings.every((f) => f.fix === null)).toBe(true);
  });

  it('a rollout that links outside the home is a problem, and is never read', async () => {
    const { home, thread } = recordedHome();
    const other = recordedHome('codex-0.131.0');
    const outside = join(makeTempDir('skein-doctor-outside-'), 'rollout.jsonl');
    copyFileSync(other.thread('P2').file!, outside);
    const link = join(dirname(thread('P2').file!), basename(other.thread('P2').file!));
    symlinkSync(outside, link);
    const diagnosis = await diagnoseHome({ codexHome: home });
    // Followed, it would read as a thread the DB lacks (file-not-indexed).
    expect(brief(diagnosis.findings)).toEqual([
      expect.stringMatching(
        `^error link-outside-home sessions/2026/12/07/${basename(link)}: a link to ${outside}`,
      ),
    ]);
    expect(diagnosis.files.checked).toBe(27);
  });

  it("a sessions folder linked to another disk is the home's: no link finding", async () => {
    const { home } = recordedHome();
    const before = await diagnoseHome({ codexHome: home });
    const disk = join(makeTempDir('skein-doctor-disk-'), 'sessions');
    cpSync(join(home, 'sessions'), disk, { recursive: true });
    rmSync(join(home, 'sessions'), { recursive: true });
    symlinkSync(disk, join(home, 'sessions'));
    const diagnosis = await diagnoseHome({ codexHome: home });
    expect(brief(diagnosis.findings)).toEqual(brief(before.findings));
    expect(diagnosis.files.checked).toBe(before.files.checked);
  });
});
