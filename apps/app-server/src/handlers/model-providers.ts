/**
 * 0.169.0's answers for a model provider config.toml does not define (probed against the real
 * binary): `thread/start` and `thread/fork` naming one fail to load their configuration;
 * `thread/resume` of a thread that ran on one (or asking for one) is refused with a typed
 * `modelProviderNotConfigured` error, and a resume may not move a thread to another provider.
 */
import type { StoredThread } from '@skein/thread-store';
import { INVALID_REQUEST, RpcError } from '../errors.js';
import type { HandlerContext } from './context.js';

/** `thread/start` / `thread/fork` asking for a provider that is not configured. */
export function refuseUnknownProvider(ctx: HandlerContext, provider: string | undefined): void {
  if (provider === undefined || ctx.modelProviderConfigured(provider)) return;
  throw RpcError.invalidRequest(
    `failed to load configuration: Model provider \`${provider}\` not found`,
  );
}

/**
 * `thread/resume` of a stored, unarchived thread that is not loaded: its own provider must be
 * configured, then the one asked for, and a resume keeps the thread's provider.
 */
export function checkResumeProvider(
  ctx: HandlerContext,
  stored: Pick<StoredThread, 'modelProvider'>,
  requested: string | undefined,
): void {
  for (const provider of [stored.modelProvider, requested]) {
    if (provider === undefined || provider === '' || ctx.modelProviderConfigured(provider))
      continue;
    throw new RpcError(
      INVALID_REQUEST,
      `This chat uses model provider “${provider}”, which is no longer configured. Restore this provider’s configuration to continue.`,
      { type: 'modelProviderNotConfigured', modelProvider: provider },
    );
  }
  if (
    requested !== undefined &&
    stored.modelProvider !== '' &&
    requested !== stored.modelProvider
  ) {
    throw RpcError.invalidRequest(
      `failed to load configuration: Cannot change this thread's model provider from \`${stored.modelProvider}\` to \`${requested}\` on resume.`,
    );
  }
}
