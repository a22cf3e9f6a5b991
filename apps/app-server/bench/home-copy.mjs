// Copies a bench template home as an old, settled home: file and directory timestamps kept.
// A plain copy makes every day directory look just-written, and scan-and-repair (rightly)
// re-reads directories written in the last two seconds, which is not what a real home costs.
import { cpSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';

export function copySettledHome(template, home) {
  cpSync(template, home, { recursive: true, preserveTimestamps: true });
  const restoreDirTimes = (from, to) => {
    for (const entry of readdirSync(from, { withFileTypes: true })) {
      if (entry.isDirectory()) restoreDirTimes(join(from, entry.name), join(to, entry.name));
    }
    const st = statSync(from);
    utimesSync(to, st.atime, st.mtime);
  };
  restoreDirTimes(template, home);
}
