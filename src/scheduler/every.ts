/** rufus-scheduler's durations as resque-scheduler's `every` uses them: `30s`, `5m`, `1h30m`, `2d`, `1w`, `500ms`. */
const UNIT_MS: Record<string, number> = {
  w: 604_800_000,
  d: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
};

/** Milliseconds of a duration string; undefined when it is not one (or not positive). */
export function parseDurationMs(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return positive(Number(trimmed) * 1000);
  const pattern = /(\d+(?:\.\d+)?)(ms|w|d|h|m|s)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = pattern.exec(trimmed); match; match = pattern.exec(trimmed)) {
    total += Number(match[1]) * UNIT_MS[match[2]!]!;
    consumed = pattern.lastIndex;
  }
  if (consumed === 0 || consumed !== trimmed.length) return undefined;
  return positive(total);
}

function positive(ms: number): number | undefined {
  return Number.isFinite(ms) && ms > 0 ? Math.round(ms) : undefined;
}
