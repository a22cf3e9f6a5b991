import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface DemoHome {
  created: boolean;
  threads: number;
}

const MARKER = '.skein-demo-home';

export async function ensureDemoHome(path: string): Promise<DemoHome> {
  if (existsSync(join(path, MARKER))) return { created: false, threads: 0 };
  await mkdir(path, { recursive: true });
  return { created: true, threads: 0 };
}
