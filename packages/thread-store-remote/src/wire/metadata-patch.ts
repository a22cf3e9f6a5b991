/**
 * `ThreadMetadataPatch` ↔ `ThreadMetadataPatchMessage`: name, memory mode and the tri-state
 * git fields on the wire for a stock peer, the whole patch as JSON for a Skein one.
 */
import {
  type GitInfoPatch,
  type ThreadMetadataPatch,
  threadMetadataPatchSchema,
} from '@skein/thread-store';
import type { OptionalStringPatchMessage, ThreadMetadataPatchMessage } from '../proto.js';
import { parseJsonField } from './json-fields.js';

function optionalStringPatch(value: string | null | undefined): OptionalStringPatchMessage {
  if (value === undefined) return { kind: 'OPTIONAL_STRING_PATCH_KIND_UNSET' };
  if (value === null) return { kind: 'OPTIONAL_STRING_PATCH_KIND_CLEAR' };
  return { kind: 'OPTIONAL_STRING_PATCH_KIND_SET', value };
}

function fromOptionalStringPatch(
  patch: OptionalStringPatchMessage | undefined,
): string | null | undefined {
  if (!patch) return undefined;
  if (patch.kind === 'OPTIONAL_STRING_PATCH_KIND_CLEAR') return null;
  if (patch.kind === 'OPTIONAL_STRING_PATCH_KIND_SET') return patch.value ?? '';
  return undefined;
}

export function patchToMessage(patch: ThreadMetadataPatch): ThreadMetadataPatchMessage {
  const message: ThreadMetadataPatchMessage = { patch_json: JSON.stringify(patch) };
  if (typeof patch.name === 'string') message.name = patch.name;
  if (patch.memoryMode !== undefined) {
    message.memory_mode =
      patch.memoryMode === 'disabled'
        ? 'THREAD_MEMORY_MODE_DISABLED'
        : 'THREAD_MEMORY_MODE_ENABLED';
  }
  if (patch.gitInfo !== undefined) {
    message.git_info = {
      sha: optionalStringPatch(patch.gitInfo.sha),
      branch: optionalStringPatch(patch.gitInfo.branch),
      origin_url: optionalStringPatch(patch.gitInfo.originUrl),
    };
  }
  return message;
}

export function patchFromMessage(
  message: ThreadMetadataPatchMessage | undefined,
): ThreadMetadataPatch {
  if (!message) return {};
  if (message.patch_json) {
    return parseJsonField(
      threadMetadataPatchSchema,
      message.patch_json,
      'patch_json',
    ) as ThreadMetadataPatch;
  }
  const patch: ThreadMetadataPatch = {};
  if (message.name !== undefined) patch.name = message.name;
  if (message.memory_mode !== undefined) {
    patch.memoryMode =
      message.memory_mode === 'THREAD_MEMORY_MODE_DISABLED' ? 'disabled' : 'enabled';
  }
  if (message.git_info) {
    const git: GitInfoPatch = {};
    const sha = fromOptionalStringPatch(message.git_info.sha);
    const branch = fromOptionalStringPatch(message.git_info.branch);
    const originUrl = fromOptionalStringPatch(message.git_info.origin_url);
    if (sha !== undefined) git.sha = sha;
    if (branch !== undefined) git.branch = branch;
    if (originUrl !== undefined) git.originUrl = originUrl;
    patch.gitInfo = git;
  }
  return patch;
}
