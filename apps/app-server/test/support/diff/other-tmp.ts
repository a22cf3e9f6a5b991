import { readFileSync } from 'node:fs';
import { compareRecording } from './compare.js';

const saved = JSON.parse(readFileSync(process.argv[2]!, 'utf8'));
const cmp = compareRecording(saved.recording, new Set(saved.knownIds), []);
const skip = (p: string) => /readState|cliVersion|recencyAt|backwardsCursor|nextCursor/.test(p);
const show = (v: unknown) => {
  const t = v === undefined ? 'undefined' : JSON.stringify(v);
  return t.length > 160 ? t.slice(0, 160) + '…' : t;
};
for (const s of cmp.steps) {
  if (s.equal) continue;
  const other = s.differences.filter((d) => !skip(d.path));
  if (other.length === 0) continue;
  console.log(`## ${s.label}`);
  for (const d of other.slice(0, 4))
    console.log(`   ${d.path}: codex ${show(d.codex)} | skein ${show(d.skein)}`);
}
