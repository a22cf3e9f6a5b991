#!/usr/bin/env node
/**
 * `skein-thread-manager-sample`: the smallest complete ThreadManager program.
 *
 * It opens the Codex home's store once (`openHomeStore`: the state handle built once with
 * `initStateDb` — open, migrate, backfill — and a `LocalThreadStore` over it) and one
 * `ThreadManager`, then starts a thread, records a turn, resumes it, forks it, renames it and
 * lists the home's threads.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { storeAgentGraph, ThreadManager } from '@skein/thread-manager';
import { openHomeStore } from '@skein/thread-stores';
import { Command } from 'commander';
import { formatReport, runSample } from './sample.js';

interface CliOptions {
  codexHome?: string;
  message: string;
  reply: string;
  name?: string;
  cwd: string;
  model: string;
  modelProvider: string;
  json: boolean;
}

function defaultCodexHome(): string {
  const fromEnv = process.env.CODEX_HOME;
  return fromEnv !== undefined && fromEnv !== '' ? resolve(fromEnv) : join(homedir(), '.codex');
}

async function main(argv: readonly string[]): Promise<void> {
  const program = new Command()
    .name('skein-thread-manager-sample')
    .description('Start, record, resume, fork, rename and list a thread in a Codex home')
    .option('--codex-home <dir>', 'Codex home (default: $CODEX_HOME or ~/.codex)')
    .option('--message <text>', 'the first user message', 'Say hello to the Skein sample.')
    .option('--reply <text>', 'the agent reply recorded in the turn', 'Hello from Skein!')
    .option('--name <name>', 'the name given to the thread (default: "Sample: <message>")')
    .option('--cwd <dir>', 'working directory recorded on the thread', process.cwd())
    .option('--model <model>', 'model recorded in the turn context', 'gpt-5')
    .option('--model-provider <id>', 'model provider recorded on the thread', 'openai')
    .option('--json', 'print the report as JSON', false);
  program.parse([...argv]);
  const options = program.opts<CliOptions>();
  const codexHome = resolve(options.codexHome ?? defaultCodexHome());

  // Main-like entrypoint: the state handle and the store are built once, here.
  const opened = await openHomeStore(codexHome, {
    defaultModelProvider: options.modelProvider,
    create: true,
    waitForIndex: true,
    onIndexUnavailable: (reason) =>
      process.stderr.write(`warning: ${reason}; using the rollout files alone\n`),
  });
  const { store } = opened;
  const manager = new ThreadManager({
    store,
    sessionSource: 'exec',
    originator: 'skein_thread_manager_sample',
    defaultModelProvider: options.modelProvider,
    agentGraph: storeAgentGraph(store),
  });
  try {
    const report = await runSample({
      manager,
      cwd: resolve(options.cwd),
      message: options.message,
      reply: options.reply,
      model: options.model,
      modelProvider: options.modelProvider,
      name: options.name ?? `Sample: ${options.message}`,
    });
    process.stdout.write(
      options.json
        ? `${JSON.stringify({ codexHome, ...report }, null, 2)}\n`
        : formatReport(codexHome, report),
    );
  } finally {
    await manager.shutdownAll(10_000);
    await opened.close();
  }
}

main(process.argv).catch((error: unknown) => {
  process.stderr.write(
    `skein-thread-manager-sample: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exitCode = 1;
});
