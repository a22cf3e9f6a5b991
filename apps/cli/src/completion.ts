import type { Command, Option } from 'commander';
import { SOURCE_KINDS } from './source-kinds.js';

/**
 * `skein completion bash|zsh|fish`: a completion script generated from the command tree itself
 * (commands, aliases, options, the values of options with fixed choices), so it never falls
 * behind the commands. Directory options complete directories, file arguments files.
 *
 *   bash: source <(skein completion bash)        (or save it under ~/.local/share/bash-completion/completions/skein)
 *   zsh:  source <(skein completion zsh)         (bash's function through bashcompinit)
 *   fish: skein completion fish > ~/.config/fish/completions/skein.fish
 */
export const COMPLETION_SHELLS = ['bash', 'zsh', 'fish'] as const;
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

interface CommandSpec {
  /** `list`, or `debug prompt-input` for a subcommand. */
  path: string[];
  names: string[];
  description: string;
  options: OptionSpec[];
  subcommands: string[];
  /** The first positional is a file (`import`). */
  fileArgument: boolean;
  /** Words the first positional takes (`completion`'s shells). */
  argumentChoices: readonly string[];
}

interface OptionSpec {
  flags: string[];
  long: string | null;
  short: string | null;
  description: string;
  takesValue: boolean;
  choices: readonly string[];
  /** Completes directories (`--codex-home`, `--cwd`) or files (`--output`). */
  paths: 'dirs' | 'files' | null;
}

const DIRECTORY_OPTIONS = new Set(['--codex-home', '--cwd']);
const FILE_OPTIONS = new Set(['--output']);

/** Values some options take that commander does not know as choices. */
const EXTRA_CHOICES: Record<string, readonly string[]> = {
  '--source': ['any', ...SOURCE_KINDS],
  '--provider': ['any'],
};

function optionSpec(option: Option): OptionSpec {
  const long = option.long ?? null;
  const choices = option.argChoices ?? EXTRA_CHOICES[long ?? ''] ?? [];
  return {
    flags: [option.long, option.short].filter((flag): flag is string => Boolean(flag)),
    long,
    short: option.short ?? null,
    description: option.description,
    takesValue: option.required || option.optional,
    choices,
    paths:
      long !== null && DIRECTORY_OPTIONS.has(long)
        ? 'dirs'
        : long !== null && FILE_OPTIONS.has(long)
          ? 'files'
          : null,
  };
}

function collect(command: Command, path: string[], out: CommandSpec[]): void {
  for (const sub of command.commands) {
    const names = [sub.name(), ...sub.aliases()];
    const spec: CommandSpec = {
      path: [...path, sub.name()],
      names,
      description: sub.description(),
      options: sub.options.map(optionSpec),
      subcommands: sub.commands.map((c) => c.name()),
      fileArgument: sub.name() === 'import',
      argumentChoices: sub.name() === 'completion' ? COMPLETION_SHELLS : [],
    };
    out.push(spec);
    collect(sub, spec.path, out);
  }
}

/** The completion script for `shell`, from the program's commands and options. */
export function completionScript(program: Command, shell: CompletionShell): string {
  const commands: CommandSpec[] = [];
  collect(program, [], commands);
  const global = program.options.map(optionSpec);
  const globalWithHelp = [...global, helpOption()];
  if (shell === 'fish') return fishScript(program.name(), commands, globalWithHelp);
  const bash = bashScript(program.name(), commands, globalWithHelp);
  if (shell === 'bash') return bash;
  return [
    `#compdef ${program.name()}`,
    `# ${program.name()} completion for zsh: source <(${program.name()} completion zsh)`,
    'autoload -U +X bashcompinit && bashcompinit',
    bash.split('\n').slice(1).join('\n'),
  ].join('\n');
}

function helpOption(): OptionSpec {
  return {
    flags: ['--help', '-h'],
    long: '--help',
    short: '-h',
    description: 'display help',
    takesValue: false,
    choices: [],
    paths: null,
  };
}

const unique = (words: readonly string[]): string[] => [...new Set(words)];

const shellWord = (word: string): string => word.replace(/[^A-Za-z0-9_./:@,+-]/g, '');

function bashScript(name: string, commands: CommandSpec[], global: OptionSpec[]): string {
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, '_')}_completion`;
  const top = commands.filter((c) => c.path.length === 1);
  const valueCases: string[] = [];
  const allOptions = [...global, ...commands.flatMap((c) => c.options)];
  const seen = new Set<string>();
  for (const option of allOptions) {
    if (!option.takesValue || option.flags.length === 0) continue;
    const key = option.flags.join('|');
    if (seen.has(key)) continue;
    seen.add(key);
    const words = option.flags.map(shellWord).join('|');
    if (option.choices.length > 0) {
      valueCases.push(
        `    ${words}) COMPREPLY=($(compgen -W "${option.choices.map(shellWord).join(' ')}" -- "$cur")); return ;;`,
      );
    } else if (option.paths === 'dirs') {
      valueCases.push(`    ${words}) COMPREPLY=($(compgen -d -- "$cur")); return ;;`);
    } else if (option.paths === 'files') {
      valueCases.push(`    ${words}) COMPREPLY=($(compgen -f -- "$cur")); return ;;`);
    } else {
      valueCases.push(`    ${words}) return ;;`);
    }
  }
  const globalValueFlags = global
    .filter((o) => o.takesValue)
    .flatMap((o) => o.flags)
    .map(shellWord)
    .join('|');
  const commandCases = commands.map((command) => {
    const key = command.path.join(' ');
    const labels = command.path.length === 1 ? command.names : [key];
    const words = unique([
      ...command.subcommands,
      ...command.argumentChoices,
      ...command.options.flatMap((o) => (o.long ? [o.long] : [])),
      '--help',
    ]);
    const files = command.fileArgument ? ' $(compgen -f -- "$cur")' : '';
    return `    ${labels.map((l) => `"${l}"`).join('|')}) COMPREPLY=($(compgen -W "${words.map(shellWord).join(' ')}" -- "$cur")${files}) ;;`;
  });
  const topWords = unique([
    ...top.flatMap((c) => c.names),
    ...global.flatMap((o) => (o.long ? [o.long] : [])),
  ]);
  // Bash's own `${...}` expansions, written as plain strings on purpose.
  return [
    `# ${name} completion for bash: source <(${name} completion bash)`,
    `${fn}() {`,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash syntax, not a template.
    '  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
    '  local cmd="" i word',
    '  for ((i = 1; i < COMP_CWORD; i++)); do',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash syntax, not a template.
    '    word="${COMP_WORDS[i]}"',
    '    case "$word" in',
    ...(globalValueFlags ? [`      ${globalValueFlags}) ((i++)) ;;`] : []),
    '      -*) ;;',
    '      *) if [ -z "$cmd" ]; then cmd="$word"; elif [ "$cmd" = debug ]; then cmd="$cmd $word"; break; else break; fi ;;',
    '    esac',
    '  done',
    '  case "$prev" in',
    ...valueCases,
    '  esac',
    '  case "$cmd" in',
    `    "") COMPREPLY=($(compgen -W "${topWords.map(shellWord).join(' ')}" -- "$cur")) ;;`,
    ...commandCases,
    '  esac',
    '}',
    `complete -F ${fn} ${name}`,
    '',
  ].join('\n');
}

const fishQuote = (text: string): string => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function fishOption(name: string, condition: string, option: OptionSpec): string {
  const parts = [`complete -c ${name} -n ${fishQuote(condition)}`];
  if (option.long) parts.push(`-l ${option.long.replace(/^--/, '')}`);
  if (option.short) parts.push(`-s ${option.short.replace(/^-/, '')}`);
  if (option.takesValue) {
    if (option.choices.length > 0) parts.push(`-x -a ${fishQuote(option.choices.join(' '))}`);
    else if (option.paths === 'dirs') parts.push(`-x -a '(__fish_complete_directories)'`);
    else if (option.paths === 'files') parts.push('-r -F');
    else parts.push('-x');
  }
  parts.push(`-d ${fishQuote(option.description)}`);
  return parts.join(' ');
}

function fishScript(name: string, commands: CommandSpec[], global: OptionSpec[]): string {
  const top = commands.filter((c) => c.path.length === 1);
  const lines = [
    `# ${name} completion for fish: ${name} completion fish > ~/.config/fish/completions/${name}.fish`,
    `complete -c ${name} -f`,
    ...global.map((option) => fishOption(name, '__fish_use_subcommand', option)),
  ];
  for (const command of top) {
    for (const alias of command.names) {
      lines.push(
        `complete -c ${name} -n '__fish_use_subcommand' -a ${alias} -d ${fishQuote(command.description)}`,
      );
    }
  }
  for (const command of commands) {
    const [first, second] = command.path;
    const seen =
      command.path.length === 1
        ? `__fish_seen_subcommand_from ${command.names.join(' ')}`
        : `__fish_seen_subcommand_from ${first}; and __fish_seen_subcommand_from ${second}`;
    for (const sub of commands.filter(
      (c) => c.path.length === command.path.length + 1 && c.path[0] === first,
    )) {
      lines.push(
        `complete -c ${name} -n ${fishQuote(`${seen}; and not __fish_seen_subcommand_from ${command.subcommands.join(' ')}`)} -a ${sub.names[0]} -d ${fishQuote(sub.description)}`,
      );
    }
    for (const option of command.options) lines.push(fishOption(name, seen, option));
    if (command.argumentChoices.length > 0) {
      lines.push(
        `complete -c ${name} -n ${fishQuote(seen)} -a ${fishQuote(command.argumentChoices.join(' '))}`,
      );
    }
    if (command.fileArgument) lines.push(`complete -c ${name} -n ${fishQuote(seen)} -F`);
  }
  return `${lines.join('\n')}\n`;
}
