import type { ParseArgsConfig } from 'node:util';
import { DEFAULTS } from '../config/options.js';
import { VERSION } from '../version.js';
import { CONNECTION_HELP, type Command, type OptionHelp } from './command.js';
import { OPTION_REFERENCE, type OptionReferenceEntry } from './option-reference.js';

type OptionConfig = NonNullable<ParseArgsConfig['options']>[string];

/** One option as `--help` lists it. */
export interface OptionDoc {
  name: string;
  short: string | undefined;
  value: string | undefined;
  description: string | undefined;
  default: string | undefined;
  env: string | undefined;
}

const WIDTH = 100;

/** `resque --help`: the commands with their summaries. */
export function overviewHelp(commands: readonly Command[]): string {
  const rows: Array<[string, string]> = [
    ...commands.map((c): [string, string] => [c.name, c.summary]),
    ['help', 'Show a command\'s options: "resque help <command>" (or "resque <command> --help").'],
    ['version', 'Print the version of resque-ts (also --version).'],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  return (
    `resque ${VERSION}\n\nUsage: resque <command> [options]\n\nCommands:\n` +
    rows.map(([name, summary]) => wrap(`  ${name.padEnd(width)}  `, summary)).join('') +
    '\nRun "resque help <command>" for its options, their defaults and environment variables.\n'
  );
}

/** `resque <command> --help`: usage, summary, and every option with its default and environment variable. */
export function commandHelp(command: Command): string {
  const docs = optionDocs(command);
  const heads = docs.map(
    (doc) =>
      `  ${doc.short ? `-${doc.short}, ` : '    '}--${doc.name}${doc.value === undefined ? '' : ` <${doc.value}>`}`,
  );
  const width = Math.min(34, Math.max(...heads.map((head) => head.length)) + 2);
  const lines = docs.map((doc, i) => {
    const notes = [
      doc.default === undefined ? undefined : `default: ${doc.default}`,
      doc.env === undefined ? undefined : `env: ${doc.env}`,
    ].filter((note) => note !== undefined);
    const text = `${doc.description ?? ''}${notes.length > 0 ? ` [${notes.join('; ')}]` : ''}`;
    const head = heads[i]!;
    return head.length + 2 > width
      ? `${head}\n${wrap(' '.repeat(width), text)}`
      : wrap(head.padEnd(width), text);
  });
  return (
    `Usage: resque ${command.name} ${command.usage}\n\n${wrap('', command.summary)}` +
    (docs.length > 0 ? `\nOptions:\n${lines.join('')}` : '')
  );
}

/** Every option of a command, described from its OptionHelp or the option table. */
export function optionDocs(command: Command): OptionDoc[] {
  return Object.entries(command.options ?? {}).map(([name, config]) =>
    optionDoc(name, config, command.optionHelp?.[name] ?? CONNECTION_HELP[name] ?? {}),
  );
}

function optionDoc(name: string, config: OptionConfig, help: OptionHelp): OptionDoc {
  const field = help.field ?? fieldOf(name);
  const reference: OptionReferenceEntry | undefined = field ? OPTION_REFERENCE[field] : undefined;
  const inSeconds = field?.endsWith('Ms') === true;
  return {
    name,
    short: config.short,
    value:
      config.type === 'boolean'
        ? undefined
        : (help.value ?? (inSeconds ? 'seconds' : field?.endsWith('Mb') ? 'MB' : 'value')),
    description: help.description ?? (reference ? plain(reference.meaning) : undefined),
    default:
      help.default ?? configDefault(config) ?? (field && reference ? defaultOf(field, reference) : undefined),
    env: help.env ?? (reference && reference.env.length > 0 ? reference.env.join(', ') : undefined),
  };
}

/** The ResqueOptions field an option sets, by name: `--job-timeout` → `jobTimeoutMs`, `--pidfile` → `pidFile`. */
function fieldOf(option: string): string | undefined {
  const camel = option.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase()).toLowerCase();
  return Object.keys(OPTION_REFERENCE).find((field) =>
    [camel, `${camel}ms`, `${camel}mb`].includes(field.toLowerCase()),
  );
}

function configDefault(config: OptionConfig): string | undefined {
  if (config.default === undefined) return undefined;
  return Array.isArray(config.default) ? config.default.join(',') : String(config.default);
}

/** The option table's default, in seconds for a millisecond field (the command line takes seconds). */
function defaultOf(field: string, reference: OptionReferenceEntry): string | undefined {
  const value = (DEFAULTS as Record<string, unknown>)[field];
  if (field.endsWith('Ms') && typeof value === 'number') return String(value / 1000);
  const text = plain(reference.default);
  return text === '—' || text === '[]' || text === 'empty' ? undefined : text;
}

/** Markdown code spans as plain text. */
function plain(markdown: string): string {
  return markdown.replace(/`([^`]*)`/g, '$1');
}

/** `head` then `text` wrapped at WIDTH, continuation lines indented to the end of `head`. */
function wrap(head: string, text: string): string {
  const indent = ' '.repeat(head.length);
  const room = Math.max(30, WIDTH - head.length);
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > room) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return `${lines.map((l, i) => (i === 0 ? head : indent) + l).join('\n')}\n`;
}
