/**
 * Builds the README's configuration table from the doc comments of `ResqueOptions` (src/config/options.ts), so the
 * table cannot drift from the code: test/unit/readme.test.ts compares them and rewrites the README on request.
 */

interface OptionDoc {
  name: string;
  type: string;
  doc: string;
}

/** `/** doc *\/ name?: type;` entries of the ResqueOptions interface, in source order. */
export function parseOptions(source: string): OptionDoc[] {
  const body = /export interface ResqueOptions \{([\s\S]*?)\n\}/.exec(source)?.[1];
  if (!body) throw new Error('ResqueOptions interface not found');
  const entries: OptionDoc[] = [];
  for (const match of body.matchAll(/\/\*\*([\s\S]*?)\*\/\s*(\w+)\?:\s*([^;]+);/g)) {
    const doc = match[1]!
      .split('\n')
      .map((line) => line.replace(/^\s*\*\s?/, '').trim())
      .filter(Boolean)
      .join(' ');
    entries.push({ name: match[2]!, type: match[3]!.trim(), doc });
  }
  return entries;
}

const sentences = (doc: string) => doc.split(/(?<=\.)\s+(?=[A-Z`])/);

/** Environment variables named in the sentences that speak of them (`Env \`X\`.`, `env \`X\` → …`). */
function envNames(doc: string): string[] {
  return sentences(doc)
    .filter((s) => /\benv\b/i.test(s))
    .flatMap((s) => [...s.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!));
}

function envOf(doc: string): string {
  const names = envNames(doc).map((name) => `\`${name}\``);
  const unit = /`[A-Z0-9_]+` \(seconds\)/.test(doc) ? ' (seconds)' : '';
  return names.length > 0 ? names.join(', ') + unit : '—';
}

function defaultOf(doc: string, fallback: unknown): string {
  const stated = sentences(doc).find((s) => s.startsWith('Default '));
  if (stated) return stated.replace(/^Default /, '').replace(/\.$/, '');
  if (fallback === undefined) return '—';
  if (typeof fallback === 'string') return fallback === '' ? 'empty' : `\`${fallback}\``;
  return typeof fallback === 'object' ? `\`${JSON.stringify(fallback)}\`` : String(fallback);
}

function describe(doc: string): string {
  return sentences(doc)
    .filter((s) => !s.startsWith('Default ') && !s.startsWith('Env '))
    .join(' ');
}

const cell = (text: string) => text.replace(/\|/g, '\\|');

/** The Markdown table: option, type, environment variable, default, meaning. */
export function optionsTable(source: string, defaults: Record<string, unknown>): string {
  const rows = parseOptions(source).map((o) =>
    [`\`${o.name}\``, `\`${o.type}\``, envOf(o.doc), defaultOf(o.doc, defaults[o.name]), describe(o.doc)].map(
      cell,
    ),
  );
  const header = ['Option', 'Type', 'Environment', 'Default', 'Meaning'];
  return [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

export const TABLE_START = '<!-- options-table:start (generated from src/config/options.ts) -->';
export const TABLE_END = '<!-- options-table:end -->';

/** The README with its table replaced. */
export function withOptionsTable(readme: string, table: string): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error('README has no options-table markers');
  return `${readme.slice(0, start + TABLE_START.length)}\n${table}\n${readme.slice(end)}`;
}

/** One option of ResqueOptions as the CLI's help shows it (src/cli/option-reference.ts). */
export interface OptionReferenceEntry {
  env: string[];
  /** The environment variables take seconds where the option takes milliseconds. */
  seconds: boolean;
  default: string;
  meaning: string;
}

/** Environment, default and meaning of every option, from the same doc comments as the README's table. */
export function optionReference(source: string, defaults: Record<string, unknown>) {
  return Object.fromEntries(
    parseOptions(source).map((o): [string, OptionReferenceEntry] => [
      o.name,
      {
        env: envNames(o.doc),
        seconds: /`[A-Z0-9_]+` \(seconds\)/.test(o.doc),
        default: defaultOf(o.doc, defaults[o.name]),
        meaning: describe(o.doc),
      },
    ]),
  );
}

/** src/cli/option-reference.ts as it should read. */
export function optionReferenceModule(reference: Record<string, OptionReferenceEntry>): string {
  const entries = Object.entries(reference)
    .map(([name, entry]) => `  ${name}: ${JSON.stringify(entry)},`)
    .join('\n');
  return `// Generated from the doc comments of ResqueOptions (src/config/options.ts), as the README's configuration table is;
// test/unit/cli-help.test.ts checks it (UPDATE_DOCS=1 rewrites it). Do not edit by hand.

/** Environment variables, default (Markdown) and meaning of one option of ResqueOptions. */
export interface OptionReferenceEntry {
  readonly env: readonly string[];
  readonly seconds: boolean;
  readonly default: string;
  readonly meaning: string;
}

export const OPTION_REFERENCE: Readonly<Record<string, OptionReferenceEntry>> = {
${entries}
};
`;
}
