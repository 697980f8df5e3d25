import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// The benchmark harness end to end with tiny counts (it runs from dist/: `npm run build` first). Speed is judged
// only by `npm run bench`; this checks that every library's adapter still runs and that the report is complete.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

describe('bench/run.mjs --smoke', () => {
  it('measures enqueue, drain and pickup latency for resque-ts, BullMQ, bee-queue and node-resque', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'resque-bench-smoke-'));
    try {
      const json = join(dir, 'result.json');
      const args = ['bench/run.mjs', '--smoke', '--only', 'enqueue,drain50,latency', '--json', json];
      const { stdout } = await run(process.execPath, args, { cwd: ROOT, timeout: 110_000 });
      expect(stdout).toContain('| Drain, concurrency 50, in-process (jobs/s) |');
      const { figures } = JSON.parse(readFileSync(json, 'utf8'));
      for (const lib of ['resque-ts', 'BullMQ', 'bee-queue', 'node-resque']) {
        for (const key of ['enqueueOne', 'drain50', 'p50', 'rss50', 'cmdDrain50']) {
          expect(figures[lib][key], `${lib} ${key}`).toBeGreaterThan(0);
        }
      }
      for (const lib of ['resque-ts', 'BullMQ', 'bee-queue']) {
        expect(figures[lib].enqueueBulk, `${lib} enqueueBulk`).toBeGreaterThan(0);
      }
      expect(figures['node-resque'].enqueueBulk).toBe('no bulk API');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('runs the delayed-jobs scenario against BullMQ and reports promotion', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'resque-bench-smoke-'));
    try {
      const json = join(dir, 'result.json');
      const args = ['bench/run.mjs', '--smoke', '--only', 'delayed', '--json', json];
      const { stdout } = await run(process.execPath, args, { cwd: ROOT, timeout: 110_000 });
      expect(stdout).toContain('## Delayed jobs');
      expect(stdout).toContain('| delayed enqueue, bulk of 1,000 (jobs/s) |');
      expect(stdout).toMatch(/Promotion of 2,000 jobs due at once, one promoter: [\d,]+ jobs\/s/);
      const { delayed } = JSON.parse(readFileSync(json, 'utf8'));
      expect(delayed.promotion.moved).toBe(2000);
      for (const side of [delayed.resque, delayed.bull]) {
        for (const key of ['enqueueOne', 'enqueueBulk', 'p50'])
          expect(side[key], key).toBeGreaterThanOrEqual(0);
      }
      expect(delayed.promotion.rate).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('bench/fleet.mjs --smoke', () => {
  it('measures Redis work per job with idle fleets and the drain rate over many queues', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'resque-bench-fleet-'));
    try {
      const json = join(dir, 'result.json');
      const { stdout } = await run(process.execPath, ['bench/fleet.mjs', '--smoke', '--json', json], {
        cwd: ROOT,
        timeout: 170_000,
      });
      expect(stdout).toContain('| queues | worker on `*`: jobs/s |');
      const { results } = JSON.parse(readFileSync(json, 'utf8'));
      for (const count of ['1', '3']) {
        expect(results.idle[count].commandsPerJob, `${count} idle`).toBeGreaterThan(0);
        expect(results.idle[count].idleCommandsPerSecond, `${count} idle, no jobs`).toBeGreaterThan(0);
      }
      expect(results.supervised['1'].commandsPerJob).toBeGreaterThan(0);
      expect(results.queues['100'].rate).toBeGreaterThan(0);
      expect(results.explicit['100'].rate).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});

describe('bench/flow.mjs --smoke', () => {
  it('measures the cost of unreached limits, the fairness of keyed limits and pickup beside a rate-limited backlog', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'resque-bench-flow-'));
    try {
      const json = join(dir, 'result.json');
      const { stdout } = await run(process.execPath, ['bench/flow.mjs', '--smoke', '--json', json], {
        cwd: ROOT,
        timeout: 110_000,
      });
      expect(stdout).toContain('| Drain at concurrency 50, no limit (jobs/s) |');
      const { figures } = JSON.parse(readFileSync(json, 'utf8'));
      const keys = Object.keys(figures);
      for (const key of [
        'concurrencyRatio',
        'rateRatio',
        'concurrencyCpuRatio',
        'rateCpuRatio',
        'keysRate',
        'keysFinishMaxOverMedian',
        'pickupBacklogP99',
      ]) {
        expect(keys).toContain(key);
      }
      for (const [key, value] of Object.entries(figures)) expect(value, key).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('bench/retry.mjs --smoke', () => {
  it('drains jobs that fail twice and then succeed, for resque-ts and BullMQ, and each without failures', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'resque-bench-retry-'));
    try {
      const json = join(dir, 'result.json');
      const { stdout } = await run(process.execPath, ['bench/retry.mjs', '--smoke', '--json', json], {
        cwd: ROOT,
        timeout: 110_000,
      });
      expect(stdout).toMatch(/resque-ts \/ BullMQ with retries: [\d.]+×/);
      const { result } = JSON.parse(readFileSync(json, 'utf8'));
      for (const key of ['resque-ts retry', 'resque-ts plain', 'BullMQ retry', 'BullMQ plain']) {
        expect(result[key].rate, key).toBeGreaterThan(0);
        expect(result[key].commands, key).toBeGreaterThan(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('bench/unique.mjs --smoke', () => {
  it('measures unique enqueues and drains against plain ones: single, duplicate, bulk and drain', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'resque-bench-unique-'));
    try {
      const json = join(dir, 'result.json');
      const { stdout } = await run(process.execPath, ['bench/unique.mjs', '--smoke', '--json', json], {
        cwd: ROOT,
        timeout: 110_000,
      });
      expect(stdout).toContain('| scenario | plain /s | unique /s | unique / plain |');
      const { figures } = JSON.parse(readFileSync(json, 'utf8'));
      expect(Object.keys(figures)).toEqual(['single', 'duplicate', 'bulk', 'drain']);
      for (const [name, { plain, unique, ratio }] of Object.entries(figures) as Array<
        [string, { plain: { perSecond: number }; unique: { perSecond: number }; ratio: number }]
      >) {
        expect(plain.perSecond, name).toBeGreaterThan(0);
        expect(unique.perSecond, name).toBeGreaterThan(0);
        expect(ratio, name).toBeGreaterThan(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('bench/status.mjs --smoke', () => {
  it('measures tracked against untracked drains and enqueues, and progress writes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'resque-bench-status-'));
    try {
      const json = join(dir, 'result.json');
      const { stdout } = await run(process.execPath, ['bench/status.mjs', '--smoke', '--json', json], {
        cwd: ROOT,
        timeout: 110_000,
      });
      expect(stdout).toContain('| Drain at concurrency 50, untracked (jobs/s) |');
      const { figures } = JSON.parse(readFileSync(json, 'utf8'));
      for (const key of ['drainRatio', 'enqueueRatio', 'statusWritesPerSecond', 'progressWritesPerSecond'])
        expect(Object.keys(figures)).toContain(key);
      for (const [key, value] of Object.entries(figures)) expect(value, key).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('bench/cluster.mjs --smoke', () => {
  it('drains three queues of a sharded namespace on one Redis and on a 3-primary cluster, with figures for every primary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'resque-bench-cluster-'));
    try {
      const json = join(dir, 'result.json');
      const { stdout } = await run(process.execPath, ['bench/cluster.mjs', '--smoke', '--json', json], {
        cwd: ROOT,
        timeout: 110_000,
      });
      expect(stdout).toContain('| Drain, 3 queues, one worker process each |');
      const { placement, results, idle, projection } = JSON.parse(readFileSync(json, 'utf8'));
      expect(new Set(placement.map((p: { primary: number }) => p.primary)).size).toBe(3);
      expect(new Set(placement.map((p: { bullPrimary: number }) => p.bullPrimary)).size).toBe(3);
      for (const lib of ['resque-ts', 'BullMQ']) {
        expect(results[lib].single.rate, `${lib} on one Redis`).toBeGreaterThan(0);
        expect(results[lib].single.nodes[0].cpuMicrosPerJob, `${lib} on one Redis`).toBeGreaterThan(0);
        const nodes = results[lib].cluster.nodes;
        expect(nodes).toHaveLength(3);
        for (const node of nodes) {
          expect(node.queues, `${lib} :${node.port}`).toHaveLength(1);
          expect(node.cpuMicrosPerJob, `${lib} :${node.port}`).toBeGreaterThan(0);
          expect(node.commandsPerJob, `${lib} :${node.port}`).toBeGreaterThan(0);
        }
      }
      expect(projection.perPrimary).toBeGreaterThan(0);
      expect(idle.three.commandsPerSecond).toBeGreaterThan(idle.one.commandsPerSecond);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
