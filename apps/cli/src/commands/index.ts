import type { Command } from 'commander';
import type { CommandHelpers, Wrap } from '../command-types.js';
import { CliError, EXIT } from '../errors.js';
import { groupThousands } from '../format.js';
import { SOURCE_KINDS } from '../source-kinds.js';

/** `thread/list` page sizes (kept here so `--help` loads no command module). */
const DEFAULT_PAGE_SIZE = 25;
const MAX_PAGE_SIZE = 100;
/** The most results one `search` prints. */
const MAX_SEARCH_RESULTS = 10_000;

// Command modules load on use: `--help`, `--version` and `debug` never pull in SQLite.
const list = () => import('./list.js');
const show = () => import('./show.js');
const search = () => import('./search.js');
const mutate = () => import('./mutate.js');
const indexCommands = () => import('./index-commands.js');
const doctor = () => import('./doctor.js');
const transfer = () => import('./transfer.js');
const debugCommands = () => import('./debug.js');

import type { DoctorOptions } from './doctor.js';
import type { ListOptions } from './list.js';
import type { DeleteOptions } from './mutate.js';
import type { SearchOptions } from './search.js';
import type { ShowOptions } from './show.js';
import type { ExportOptions } from './transfer.js';

const REF_HELP = 'a thread id, a unique id prefix, or a thread name';

export function registerCommands(program: Command, wrap: Wrap, h: CommandHelpers): void {
  program
    .command('list')
    .alias('ls')
    .description('List threads, newest first (same filters and defaults as thread/list)')
    .option('--cwd <dir...>', 'only threads started in these directories (relative to here)')
    .option(
      '--source <kind...>',
      `source kinds to include: any, ${SOURCE_KINDS.join(', ')} (default: cli and vscode)`,
      h.collect,
    )
    .option(
      '--provider <id...>',
      'model providers to include, or "any" (default: the configured one)',
      h.collect,
    )
    .option('--archived', 'list archived threads instead of active ones')
    .option(
      '--search <text>',
      'only threads whose name, title or preview contains text (case-sensitive)',
    )
    .addOption(
      new h.Option('--sort <key>', 'sort key')
        .choices(['created', 'updated', 'recency'])
        .default('created'),
    )
    .addOption(
      new h.Option('--order <dir>', 'sort direction').choices(['desc', 'asc']).default('desc'),
    )
    .option('--asc', 'oldest first (same as --order asc)')
    .option(
      '-n, --limit <n>',
      `page size, 1..${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE})`,
      h.limitParser(MAX_PAGE_SIZE),
    )
    .option('--cursor <cursor>', 'continue after an earlier page (printed under the table)')
    .option('--all', 'every page, not just the first')
    .option(
      '--index-only',
      'answer from the state index alone, without re-checking rollout files (useStateDbOnly)',
    )
    .option('--json', 'print an array of app-server Thread objects')
    .action(
      wrap<ListOptions & { asc?: boolean }>(async (ctx, options) =>
        (await list()).runList(ctx, options.asc ? { ...options, order: 'asc' } : options),
      ),
    );

  program
    .command('show')
    .description('Show a thread: its metadata and a readable transcript')
    .argument('<thread>', REF_HELP)
    .option('--full', 'unfold tool calls and reasoning')
    .option('--metadata-only', 'only the metadata, no transcript')
    .option('--no-pager', 'print straight to the terminal (default: $PAGER or less when long)')
    .option('--json', 'print {thread, archived, items} with the raw rollout items')
    .action(
      wrap<ShowOptions>(async (ctx, options, [ref]) => (await show()).runShow(ctx, ref!, options)),
    );

  program
    .command('search')
    .description('Search thread names, titles and previews, or with --content the conversations')
    .argument('<text>', 'text to look for (case-sensitive unless --ignore-case)')
    .option('-i, --ignore-case', 'compare without regard to case (reads every thread)')
    .option('--content', 'search inside the conversations (case-insensitive), with a snippet each')
    .option('--archived', 'only archived threads')
    .option('--active', 'only active (not archived) threads')
    .option(
      '-n, --limit <n>',
      `at most this many results, 1..${groupThousands(MAX_SEARCH_RESULTS)} (default 50)`,
      h.limitParser(MAX_SEARCH_RESULTS),
    )
    .option('--json', 'print an array of app-server Thread objects')
    .action(
      wrap<SearchOptions>(async (ctx, options, [text]) =>
        (await search()).runSearch(ctx, text!, options),
      ),
    );

  program
    .command('rename')
    .description('Set a thread name (written to session_index.jsonl, as Codex does)')
    .argument('<thread>', REF_HELP)
    .argument('<name>', 'the new name')
    .option('--json', 'print {threadId, name}')
    .action(
      wrap<{ json?: boolean }>(async (ctx, options, [ref, name]) =>
        (await mutate()).runRename(ctx, ref!, name!, options),
      ),
    );

  program
    .command('archive')
    .description('Archive a thread and its sub-agent threads')
    .argument('<thread>', REF_HELP)
    .option('--json', 'print {archived: [ids]}')
    .action(
      wrap<{ json?: boolean }>(async (ctx, options, [ref]) =>
        (await mutate()).runArchive(ctx, ref!, options),
      ),
    );

  program
    .command('unarchive')
    .description('Restore an archived thread and its archived sub-agent threads')
    .argument('<thread>', REF_HELP)
    .option('--json', 'print {unarchived: [ids]}')
    .action(
      wrap<{ json?: boolean }>(async (ctx, options, [ref]) =>
        (await mutate()).runUnarchive(ctx, ref!, options),
      ),
    );

  program
    .command('delete')
    .description('Delete a thread and its sub-agent threads for good (asks first)')
    .argument('<thread>', REF_HELP)
    .option('-y, --yes', 'do not ask (required when there is no terminal)')
    .option('--json', 'print {deleted: [ids]}')
    .action(
      wrap<DeleteOptions>(async (ctx, options, [ref]) =>
        (await mutate()).runDelete(ctx, ref!, options),
      ),
    );

  program
    .command('backfill')
    .description("Build the state index from the home's rollout files, if not built yet")
    .option('--json', 'print a summary object')
    .action(
      wrap<{ json?: boolean }>(
        async (ctx, options) => (await indexCommands()).runBackfill(ctx, options),
        { homeFiles: 'backfill' },
      ),
    );

  program
    .command('reindex')
    .description('Re-read every rollout file and refresh the state index (keeps names)')
    .option('--json', 'print a summary object')
    .action(
      wrap<{ json?: boolean }>(
        async (ctx, options) => (await indexCommands()).runReindex(ctx, options),
        { homeFiles: 'reindex' },
      ),
    );

  program
    .command('doctor')
    .description(
      'Verify a home: rollouts, and their drift from session_index.jsonl and Codex’s DBs',
    )
    .option(
      '--repair',
      'fix the drift as Codex would (never rewriting a rollout), and say what was done',
    )
    .option('--json', 'print the report as an object')
    .action(
      wrap<DoctorOptions>(async (ctx, options) => (await doctor()).runDoctor(ctx, options), {
        homeFiles: 'doctor',
      }),
    );

  program
    .command('export')
    .description('Write a thread (with --tree, and its sub-agent threads) to one portable file')
    .argument('<thread>', REF_HELP)
    .option('--tree', 'include every sub-agent thread spawned from it')
    .option(
      '-o, --output <file>',
      'bundle file ("-" = stdout; default skein-<id>.json, or stdout when piped)',
    )
    .option('--force', 'overwrite the output file if it exists')
    .option('--json', 'print a summary object')
    .action(
      wrap<ExportOptions>(
        async (ctx, options, [ref]) => (await transfer()).runExport(ctx, ref!, options),
        { homeFiles: 'export' },
      ),
    );

  program
    .command('import')
    .description('Import a bundle made by "skein export" (ids, names, archived state kept)')
    .argument('<file>', 'the bundle ("-" = stdin)')
    .option('--json', 'print a summary object')
    .action(
      wrap<{ json?: boolean }>(
        async (ctx, options, [file]) => (await transfer()).runImport(ctx, file!, options),
        { allowCreateHome: true, homeFiles: 'import' },
      ),
    );

  program
    .command('completion')
    .description('Print a shell completion script: bash, zsh or fish')
    .argument('<shell>', 'bash, zsh or fish')
    .addHelpText(
      'after',
      '\nbash: source <(skein completion bash)\nzsh:  source <(skein completion zsh)\nfish: skein completion fish > ~/.config/fish/completions/skein.fish',
    )
    .action(
      wrap<{ json?: boolean }>(async (ctx, _options, [shell]) => {
        const { COMPLETION_SHELLS, completionScript } = await import('../completion.js');
        const wanted = COMPLETION_SHELLS.find((known) => known === shell);
        if (wanted === undefined) {
          throw CliError.usage(
            `unknown shell "${shell}" (expected ${COMPLETION_SHELLS.join(', ')})`,
          );
        }
        ctx.out.stdout.write(completionScript(program, wanted));
        return EXIT.ok;
      }),
    );

  const debug = program.command('debug').description('Inspection tools');
  debug
    .command('prompt-input')
    .description(
      'Print the model-visible input items rebuilt from the rollout (files only, no SQLite)',
    )
    .argument('<thread>', REF_HELP)
    .option(
      '--json',
      'print only the JSON array (the default prints it too, with a summary on stderr)',
    )
    .action(
      wrap<{ json?: boolean }>(
        async (ctx, options, [ref]) =>
          (await debugCommands()).runDebugPromptInput(ctx, ref!, options),
        { homeFiles: 'debug prompt-input' },
      ),
    );
}
