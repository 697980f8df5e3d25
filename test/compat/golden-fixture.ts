import { readFileSync } from 'node:fs';

/** One observation from a live Ruby Resque 3.0 run: a key and the exact value Ruby left in it. */
export interface GoldenCase {
  case: string;
  ruby: string;
  /** Full key as Ruby wrote it, under the default `resque:` namespace. */
  key: string;
  type: 'list' | 'set' | 'string' | 'zset';
  value: unknown;
  note?: string;
}

interface GoldenFile {
  source: string;
  cases: GoldenCase[];
}

const file = JSON.parse(
  readFileSync(new URL('../fixtures/golden/ruby-resque-3.0.json', import.meta.url), 'utf8'),
) as GoldenFile;

export const GOLDEN_SOURCE = file.source;
export const GOLDEN_CASES: readonly GoldenCase[] = file.cases;

export function goldenCase(name: string): GoldenCase {
  const found = file.cases.find((c) => c.case === name);
  if (!found) throw new Error(`no golden case "${name}"`);
  return found;
}

/** A list case's items. */
export function goldenList(name: string): string[] {
  const found = goldenCase(name);
  if (found.type !== 'list') throw new Error(`golden case "${name}" is a ${found.type}, not a list`);
  return found.value as string[];
}

/** Ruby's key without its `resque:` namespace: what the key is called under any namespace. */
export function logicalKey(rubyKey: string): string {
  if (!rubyKey.startsWith('resque:')) throw new Error(`golden key outside the resque namespace: ${rubyKey}`);
  return rubyKey.slice('resque:'.length);
}

/** The bytes between `"payload":` and `,"exception":` of a failure record: the job exactly as it was queued. */
export function payloadBytesOfRecord(record: string): string {
  const start = record.indexOf('"payload":') + '"payload":'.length;
  const end = record.indexOf(',"exception":');
  if (start < '"payload":'.length || end < start) throw new Error(`not a failure record: ${record}`);
  return record.slice(start, end);
}
