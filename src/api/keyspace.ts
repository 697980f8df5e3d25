import type { AdminContext } from './context.js';
import { pipelineValues } from './context.js';

/**
 * The keys browser (resque-web's Stats → Keys) without `KEYS *`: SCAN over `<namespace>:*` a page at a time with a
 * cursor, each key with its type and size (one pipeline per page), and a key's contents a slice at a time.
 */
export interface KeyEntry {
  /** The key without the namespace prefix. */
  name: string;
  type: string;
  /** Elements (list, set, zset, hash, stream) or bytes (string). */
  size: number;
}

export interface KeyPage {
  keys: KeyEntry[];
  /** Pass back to read the next page; '0' when the scan is complete. */
  cursor: string;
}

/** SCAN calls one page may make before it returns what it has (a sparse namespace in a big Redis). */
const MAX_SCANS_PER_PAGE = 50;

export async function scanKeys(ctx: AdminContext, cursor = '0', pageSize = 50): Promise<KeyPage> {
  const names = new Set<string>();
  let next = cursor;
  for (let scans = 0; scans < MAX_SCANS_PER_PAGE; scans++) {
    const [after, batch] = await ctx.redis.scan(
      next,
      'MATCH',
      `${escapeGlob(ctx.keys.prefix)}*`,
      'COUNT',
      500,
    );
    for (const key of batch) names.add(key);
    next = after;
    if (next === '0' || names.size >= pageSize) break;
  }
  const keys = [...names].sort();
  return { keys: await describeKeys(ctx, keys), cursor: next };
}

/** Glob characters in the namespace match themselves only. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

async function describeKeys(ctx: AdminContext, fullKeys: readonly string[]): Promise<KeyEntry[]> {
  if (fullKeys.length === 0) return [];
  const types = pipelineValues(
    await fullKeys.reduce((p, key) => p.type(key), ctx.redis.pipeline()).exec(),
  ) as string[];
  const sizes = pipelineValues(
    await fullKeys.reduce((p, key, i) => sizeCommand(p, types[i]!, key), ctx.redis.pipeline()).exec(),
  );
  return fullKeys.map((key, i) => ({
    name: ctx.keys.logical(key),
    type: types[i]!,
    size: Number(sizes[i] ?? 0),
  }));
}

type Pipeline = ReturnType<AdminContext['redis']['pipeline']>;

function sizeCommand(pipeline: Pipeline, type: string, key: string): Pipeline {
  switch (type) {
    case 'list':
      return pipeline.llen(key);
    case 'set':
      return pipeline.scard(key);
    case 'zset':
      return pipeline.zcard(key);
    case 'hash':
      return pipeline.hlen(key);
    case 'stream':
      return pipeline.xlen(key);
    case 'string':
      return pipeline.strlen(key);
    default:
      return pipeline.exists(key);
  }
}

/** A slice of one key's contents: rows of one or two cells (member/score, field/value). */
export interface KeyContents {
  name: string;
  type: string;
  size: number;
  /** Where this slice starts (list/zset index; for set and hash, the SSCAN/HSCAN cursor it was read from). */
  start: string;
  rows: Array<[string] | [string, string]>;
  /** Start of the next slice, or undefined at the end. */
  next: string | undefined;
  /** A string value, or a cell, longer than the part shown. */
  truncated: boolean;
}

const STRING_MAX = 64 * 1024;

/** Undefined when the key does not exist. `start` is an index (list, zset) or a scan cursor (set, hash). */
export async function readKey(
  ctx: AdminContext,
  name: string,
  start = '0',
  count = 20,
): Promise<KeyContents | undefined> {
  const contents = await readSlice(ctx, name, start, count);
  return contents && capCells(contents);
}

async function readSlice(
  ctx: AdminContext,
  name: string,
  start: string,
  count: number,
): Promise<KeyContents | undefined> {
  const key = ctx.keys.named(name);
  const type = await ctx.redis.type(key);
  if (type === 'none') return undefined;
  const size = (await describeKeys(ctx, [key]))[0]?.size ?? 0;
  const base = { name, type, size, start, truncated: false };
  // Redis takes indexes up to 2^63; larger ones (a hand-typed start) read past the end all the same.
  const index = Math.min(Number.MAX_SAFE_INTEGER, Math.max(0, Number.parseInt(start, 10) || 0));
  switch (type) {
    case 'string': {
      const value = await ctx.redis.getrange(key, 0, STRING_MAX - 1);
      return { ...base, rows: [[value]], next: undefined, truncated: size > STRING_MAX };
    }
    case 'list': {
      const items = await ctx.redis.lrange(key, index, index + count - 1);
      return { ...base, rows: items.map((v) => [v]), next: nextIndex(index, count, size) };
    }
    case 'zset': {
      const flat = await ctx.redis.zrange(key, index, index + count - 1, 'WITHSCORES');
      return { ...base, rows: pairs(flat), next: nextIndex(index, count, size) };
    }
    case 'set': {
      const [after, members] = await ctx.redis.sscan(key, start, 'COUNT', count);
      return { ...base, rows: members.map((v) => [v]), next: after === '0' ? undefined : after };
    }
    case 'hash': {
      const [after, flat] = await ctx.redis.hscan(key, start, 'COUNT', count);
      return { ...base, rows: pairs(flat), next: after === '0' ? undefined : after };
    }
    case 'stream': {
      const entries = (await ctx.redis.xrange(key, '-', '+', 'COUNT', count)) as Array<[string, string[]]>;
      return {
        ...base,
        rows: entries.map(([id, fields]) => [id, JSON.stringify(fields)]),
        next: undefined,
      };
    }
    default:
      return { ...base, rows: [], next: undefined };
  }
}

/** Cells longer than a string value's limit are cut (a 100 MB list item would otherwise fill the page). */
function capCells(contents: KeyContents): KeyContents {
  let truncated = contents.truncated;
  const rows = contents.rows.map((row) =>
    row.map((cell) => {
      if (cell.length <= STRING_MAX) return cell;
      truncated = true;
      return cell.slice(0, STRING_MAX);
    }),
  ) as KeyContents['rows'];
  return { ...contents, rows, truncated };
}

function nextIndex(index: number, count: number, size: number): string | undefined {
  return index + count < size ? String(index + count) : undefined;
}

function pairs(flat: readonly string[]): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) rows.push([flat[i]!, flat[i + 1]!]);
  return rows;
}
