import { constants as fsConstants } from 'node:fs';
import { type FileHandle, link, open, rm, stat } from 'node:fs/promises';
import { Decompress } from 'fzstd';
import { errnoCode, RolloutError } from './errors.js';
import { compressedRolloutPath, plainRolloutPath } from './layout.js';
import { isPersistedRolloutItem } from './policy.js';
import { type RolloutItem, serializeRolloutLine } from './schema.js';

/*
 * Appending to a rollout nobody holds a recorder for, and making sure a `.zst`-only rollout is
 * plain again before anything is appended (the recorder's resume uses it too).
 */

/** Options of one `record` call: the lines' timestamp. */
export interface RecordOptions {
  /** Line timestamp; default: now. */
  timestamp?: Date;
}

/** Makes sure `plain` exists, decompressing a `.zst`-only rollout back to plain. */
export async function ensurePlainRollout(plain: string): Promise<void> {
  try {
    await stat(plain);
    return;
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT')
      throw new RolloutError('Io', `cannot stat ${plain}`, { cause: error });
  }
  const zst = compressedRolloutPath(plain);
  const temp = `${plain}.decompress-${process.pid}-${Date.now()}.tmp`;
  let input: FileHandle;
  try {
    input = await open(zst, 'r');
  } catch (error) {
    throw new RolloutError('Io', `rollout not found: ${plain}`, { cause: error });
  }
  const output = await open(temp, 'wx');
  try {
    const chunks: Uint8Array[] = [];
    const decoder = new Decompress((data) => {
      chunks.push(data.slice());
    });
    const buffer = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const { bytesRead } = await input.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      decoder.push(buffer.subarray(0, bytesRead));
      for (const chunk of chunks.splice(0)) await output.write(chunk);
    }
    decoder.push(new Uint8Array(0), true);
    for (const chunk of chunks.splice(0)) await output.write(chunk);
    await output.sync();
  } catch (error) {
    await output.close();
    await input.close();
    await rm(temp, { force: true });
    throw new RolloutError('Io', `cannot decompress ${zst}`, { cause: error });
  }
  await output.close();
  await input.close();
  try {
    await link(temp, plain); // no-clobber: fails if another process won the race
  } catch (error) {
    if (errnoCode(error) !== 'EEXIST') {
      await rm(temp, { force: true });
      throw new RolloutError('Io', `cannot restore ${plain}`, { cause: error });
    }
  }
  await rm(temp, { force: true });
  await rm(zst, { force: true });
}

/**
 * One-shot append for a thread nobody holds a recorder for (Codex's `append_rollout_item_to_path`):
 * a `.zst`-only rollout is restored to plain first; the policy filter applies; the lines go out
 * in one `write()` on an `O_APPEND` fd (after a `\n` if the file ends in a torn line) and are
 * fsynced. Returns how many lines were written.
 */
export async function appendRolloutItems(
  path: string,
  items: readonly RolloutItem[],
  options: RecordOptions = {},
): Promise<number> {
  const plain = plainRolloutPath(path);
  await ensurePlainRollout(plain);
  const timestamp = (options.timestamp ?? new Date()).toISOString();
  const lines = items
    .filter((item) => isPersistedRolloutItem(item))
    .map((item) => `${serializeRolloutLine({ ...item, timestamp })}\n`);
  if (lines.length === 0) return 0;
  let handle: FileHandle;
  try {
    handle = await open(plain, fsConstants.O_RDWR | fsConstants.O_APPEND);
  } catch (error) {
    throw new RolloutError('Io', `cannot open ${plain} for append`, { cause: error });
  }
  try {
    const size = (await handle.stat()).size;
    let prefix = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) prefix = '\n';
    }
    const bytes = Buffer.from(prefix + lines.join(''), 'utf8');
    let offset = 0;
    while (offset < bytes.length) {
      const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset, null);
      if (bytesWritten <= 0) throw new RolloutError('Io', `no progress writing ${plain}`);
      offset += bytesWritten;
    }
    await handle.sync();
  } catch (error) {
    if (error instanceof RolloutError) throw error;
    throw new RolloutError('Io', `cannot append to ${plain}`, { cause: error });
  } finally {
    await handle.close();
  }
  return lines.length;
}
