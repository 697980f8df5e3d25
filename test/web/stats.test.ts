// The time series behind the charts: one sample per period whatever the number of dashboards, rates from the
// counters' growth (resets count as 0), gaps where nothing sampled, error-group growth for trends.
import { afterAll, describe, expect, it } from 'vitest';
import { Admin } from '../../src/api/admin.js';
import { bucketSamples, groupTrends, type StatsSample } from '../../src/api/stats.js';
import { Keys } from '../../src/protocol/keys.js';
import { escapeHtml, html, raw } from '../../src/web/html.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import { newFailure, writeFailures } from '../integration/failure-helpers.js';

const redis = rawRedis();
afterAll(() => redis.disconnect());

const sample = (
  at: number,
  processed: number,
  failed: number,
  groups: Record<string, number> = {},
): StatsSample => ({
  at,
  processed,
  failed,
  pending: 0,
  maxLatencyMs: undefined,
  groups,
});

describe('bucketSamples', () => {
  it('turns counter growth into per-bucket throughput, with gaps and resets', () => {
    const samples = [
      sample(0, 100, 10),
      sample(10_000, 130, 12),
      sample(20_000, 150, 12),
      sample(60_000, 5, 0), // counters reset, after a gap
      sample(70_000, 25, 5),
    ];
    const buckets = bucketSamples(samples, 80_000, 20_000, 4);
    expect(buckets.map((b) => [b.processed, b.failed, b.known])).toEqual([
      [30, 2, true],
      [20, 0, true],
      [0, 0, false],
      [20, 5, true],
    ]);
  });

  it('adds up error-group growth per bucket for trends', () => {
    const trends = groupTrends(
      [sample(0, 0, 0, { a: 2 }), sample(10_000, 0, 0, { a: 1, b: 4 })],
      20_000,
      10_000,
      2,
    );
    expect(trends.get('a')).toEqual([2, 1]);
    expect(trends.get('b')).toEqual([0, 4]);
  });
});

describe('sampling', () => {
  it('writes one sample per period however many dashboards sample, with error-group growth', async () => {
    const namespace = uniqueNamespace('web-stats');
    const keys = new Keys(namespace);
    const admins = [0, 1, 2].map(() => new Admin({ redis: sharedRedisUrl(), namespace }));
    try {
      await redis.set(keys.processed, 7);
      await writeFailures(redis, namespace, [newFailure()]);
      const written = await Promise.all(admins.map((admin) => admin.sampleStats()));
      // One sample per period (the three calls may, rarely, straddle two periods).
      const periods = new Set(written.flatMap((sample) => (sample ? [sample.at] : [])));
      expect(written.filter(Boolean)).toHaveLength(periods.size);
      expect(periods.size).toBeGreaterThanOrEqual(1);
      expect(await redis.zcard(keys.statsSamples)).toBe(periods.size);
      const first = (await admins[0]!.samples(0)).at(-1);
      expect(first).toMatchObject({ processed: 7, pending: 0, groups: {} });
      // Next period: the group grew by two.
      await writeFailures(redis, namespace, [newFailure(), newFailure()]);
      await redis.del(keys.statsSampleClaim(first!.at + 10_000));
      await redis.zadd(
        keys.statsSamples,
        first!.at - 10_000,
        '{"t":0,"p":0,"f":0,"pend":0,"lat":null,"g":{}}',
      );
      const growth = await writeSampleNextPeriod(admins[1]!, first!.at);
      expect(Object.values(growth?.groups ?? {})).toEqual([2]);
    } finally {
      await Promise.all(admins.map((admin) => admin.close()));
    }
  });
});

/** Samples until a sample lands in a later period than `after` (periods are 10 s of the Redis clock). */
async function writeSampleNextPeriod(admin: Admin, after: number): Promise<StatsSample | undefined> {
  for (;;) {
    const written = await admin.sampleStats();
    if (written && written.at > after) return written;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('html', () => {
  it('escapes every interpolation unless it is markup the code built', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&\``)).toBe(
      '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&#96;',
    );
    const name = '<script>alert(1)</script>';
    expect(
      html`<td title="${name}">${name}${raw('<b>ok</b>')}${[name, html`<i>${name}</i>`]}</td>`.text,
    ).toBe(
      '<td title="&lt;script&gt;alert(1)&lt;/script&gt;">&lt;script&gt;alert(1)&lt;/script&gt;<b>ok</b>' +
        '&lt;script&gt;alert(1)&lt;/script&gt;<i>&lt;script&gt;alert(1)&lt;/script&gt;</i></td>',
    );
    expect(html`${undefined}${null}${false}${0}`.text).toBe('0');
  });
});
