/** Time formats Ruby Resque writes and reads (docs/protocol.md, Workers and Failures). All UTC. */

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

function parts(date: Date) {
  return {
    y: pad(date.getUTCFullYear(), 4),
    mo: pad(date.getUTCMonth() + 1),
    d: pad(date.getUTCDate()),
    h: pad(date.getUTCHours()),
    mi: pad(date.getUTCMinutes()),
    s: pad(date.getUTCSeconds()),
  };
}

/** `worker:<id>` run_at: `Time.now.utc.iso8601` → `2025-01-02T03:04:05Z`. */
export function isoUtc(date: Date): string {
  const p = parts(date);
  return `${p.y}-${p.mo}-${p.d}T${p.h}:${p.mi}:${p.s}Z`;
}

/** Heartbeat value: `Time#iso8601` of the Redis clock on a UTC host → `2025-01-02T03:04:05+00:00`. */
export function isoOffset(date: Date): string {
  const p = parts(date);
  return `${p.y}-${p.mo}-${p.d}T${p.h}:${p.mi}:${p.s}+00:00`;
}

/** `worker:<id>:started`: Ruby `Time#to_s` → `2025-01-02 03:04:05 +0000`. */
export function rubyTimeToS(date: Date): string {
  const p = parts(date);
  return `${p.y}-${p.mo}-${p.d} ${p.h}:${p.mi}:${p.s} +0000`;
}

/** Failure `failed_at` / `retried_at`: `%Y/%m/%d %H:%M:%S %Z` → `2025/01/02 03:04:05 UTC`. */
export function failureTime(date: Date): string {
  const p = parts(date);
  return `${p.y}/${p.mo}/${p.d} ${p.h}:${p.mi}:${p.s} UTC`;
}

/**
 * Parses any time Ruby or resque-ts wrote: ISO-8601 (`Z`, `+00:00`, fractions), `2025-01-02 03:04:05 +0000`,
 * `2025/01/02 03:04:05 UTC` and the zone-less 2.x `retried_at`. Returns undefined when unparseable.
 */
export function parseResqueTime(text: string | null | undefined): Date | undefined {
  if (!text) return undefined;
  const m =
    /^(\d{4})[-/](\d{2})[-/](\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d+)?\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?$/.exec(
      text.trim(),
    );
  if (!m) {
    const fallback = new Date(text);
    return Number.isNaN(fallback.getTime()) ? undefined : fallback;
  }
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (frac) ms += Math.round(Number(frac) * 1000);
  if (zone && zone !== 'Z' && zone !== 'UTC' && zone !== 'GMT') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.replace(/[+:-]/g, '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  return new Date(ms);
}

/** Epoch seconds, as process titles show them (`Forked 123 at 1764000000`). */
export function epochSeconds(date: Date = new Date()): number {
  return Math.floor(date.getTime() / 1000);
}
