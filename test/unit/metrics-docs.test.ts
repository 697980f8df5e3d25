// The metrics reference in docs/operations.md and the Grafana dashboard name only metrics the code registers, and
// the tables list every metric it does.
import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { clusterRegistry } from '../../src/observability/cluster-metrics.js';
import { WorkerMetrics } from '../../src/observability/metrics.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

const worker = new WorkerMetrics(
  { slots: 1, busySlots: () => 0, paused: () => false, executorStats: () => undefined },
  { registry: new Registry() },
);
const cluster = clusterRegistry({
  queues: [],
  workers: 0,
  working: 0,
  processed: 0,
  failed: 0,
  failures: 0,
  delayedJobs: 0,
  delayedSeconds: 0,
  delayedLateMs: 0,
});

/** Metric families registered, with their type. */
async function registered(): Promise<Map<string, string>> {
  const families = [...(await worker.registry.getMetricsAsJSON()), ...(await cluster.getMetricsAsJSON())];
  return new Map(families.map((family) => [family.name, String(family.type)]));
}

/** A name as written in PromQL, back to its family: `_bucket`, `_sum` and `_count` are a histogram's series. */
function family(name: string, known: Map<string, string>): string {
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return base !== name && known.get(base) === 'histogram' ? base : name;
}

const metricsSection = () => {
  const doc = read('docs/operations.md');
  const start = doc.indexOf('\n## Metrics\n');
  return doc.slice(start, doc.indexOf('\n## ', start + 1));
};

describe('metrics reference', () => {
  it('names only metrics the code registers, in docs/operations.md and docs/grafana-dashboard.json', async () => {
    const known = await registered();
    const named = [
      ...metricsSection().matchAll(/\bresque_\w+/g),
      ...read('docs/grafana-dashboard.json').matchAll(/\bresque_\w+/g),
    ].map((m) => family(m[0], known));
    expect([...new Set(named)].filter((name) => !known.has(name))).toEqual([]);
  });

  it('lists every metric the code registers in a table row, with its type', async () => {
    const rows = new Map(
      [...metricsSection().matchAll(/^\| `(resque_\w+)` \| (\w+) \|/gm)].map((m) => [m[1]!, m[2]!]),
    );
    for (const [name, type] of await registered()) {
      if (!name.startsWith('resque_')) continue;
      expect(rows.get(name), name).toBe(type);
    }
  });

  it('is a Grafana dashboard whose queries all use those metrics', () => {
    const dashboard = JSON.parse(read('docs/grafana-dashboard.json')) as {
      panels: Array<{ targets: Array<{ expr: string }> }>;
    };
    const exprs = dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr));
    expect(exprs.length).toBeGreaterThan(10);
    for (const expr of exprs) expect(expr).toMatch(/\b(resque_|process_)\w+/);
  });
});
