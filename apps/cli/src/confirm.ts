import { createInterface } from 'node:readline/promises';
import type { InStream, OutStream } from './io.js';

/** Asks a yes/no question on the terminal; anything but y/yes is no. */
export async function confirm(
  question: string,
  terminal: { input: InStream; output: OutStream },
): Promise<boolean> {
  const rl = createInterface({ input: terminal.input, output: terminal.output });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
