/**
 * The few `config.toml` keys the app-server honours, read once at startup: `model_provider`
 * (the default `thread/list` provider filter, default `openai`), `thread_unload_delay_secs`
 * (idle unload, default 60), and the session settings 0.169.0 echoes in the results of
 * `thread/start` / `resume` / `fork` (`model`, `model_reasoning_effort`, `approval_policy`,
 * `approvals_reviewer`, `sandbox_mode`, `service_tier`), and which model providers exist (the
 * built-in ones plus each `[model_providers.<id>]` table). Only top-level `key = value` lines
 * and those table headers are read.
 */
import { readHomeConfigToml } from '@skein/rollout';
import * as z from 'zod';

/** Session settings from config.toml; null = not set (the handlers apply 0.169.0's defaults). */
export interface SessionConfig {
  model: string | null;
  reasoningEffort: string | null;
  approvalPolicy: string | null;
  approvalsReviewer: string | null;
  sandboxMode: string | null;
  serviceTier: string | null;
}

/**
 * The `config.toml` keys the app-server reads: the default provider of `thread/list`, the default
 * model, the idle unload delay, and the session settings start/resume/fork echo.
 */
export interface ServerConfig {
  modelProvider: string;
  /**
   * The model providers a thread may run on: 0.169.0's built-in ones and every
   * `[model_providers.<id>]` table of config.toml. Start, resume and fork refuse any other.
   */
  modelProviders: ReadonlySet<string>;
  model: string | null;
  threadUnloadDelaySecs: number;
  session: SessionConfig;
}

const configSchema = z.object({
  model_provider: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
  thread_unload_delay_secs: z.number().int().min(0).optional(),
  model_reasoning_effort: z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh']).optional(),
  // 0.169.0 still accepts the retired `on-failure` and runs it as `on-request`.
  approval_policy: z
    .enum(['on-request', 'on-failure', 'never'])
    .transform((policy) => (policy === 'on-failure' ? 'on-request' : policy))
    .optional(),
  approvals_reviewer: z.enum(['user', 'auto_review', 'guardian_subagent']).optional(),
  sandbox_mode: z.enum(['read-only', 'workspace-write', 'danger-full-access']).optional(),
  service_tier: z.string().min(1).optional(),
});

/** The providers 0.169.0 knows without configuration (probed: `oss` is not one of them). */
export const BUILT_IN_MODEL_PROVIDERS: readonly string[] = [
  'openai',
  'ollama',
  'lmstudio',
  'amazon-bedrock',
];

/**
 * Reads `config.toml` of a Codex home (missing file or keys: Codex's defaults); a malformed file
 * is reported, not ignored.
 */
export function readServerConfig(codexHome: string): ServerConfig {
  const toml = readHomeConfigToml(codexHome);
  const modelProviders = new Set([...BUILT_IN_MODEL_PROVIDERS, ...toml.modelProviderTables]);
  // Each key on its own: one bad value falls back to its default without losing the others.
  const config: z.infer<typeof configSchema> = {};
  for (const [key, schema] of Object.entries(configSchema.shape)) {
    const parsed = schema.safeParse(toml.values.get(key));
    if (parsed.success && parsed.data !== undefined) Object.assign(config, { [key]: parsed.data });
  }
  return {
    modelProvider: config.model_provider ?? 'openai',
    modelProviders,
    model: config.model ?? null,
    threadUnloadDelaySecs: config.thread_unload_delay_secs ?? 60,
    session: {
      model: config.model ?? null,
      reasoningEffort: config.model_reasoning_effort ?? null,
      approvalPolicy: config.approval_policy ?? null,
      approvalsReviewer: config.approvals_reviewer ?? null,
      sandboxMode: config.sandbox_mode ?? null,
      serviceTier: config.service_tier ?? null,
    },
  };
}
