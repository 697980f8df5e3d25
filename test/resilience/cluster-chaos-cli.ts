// `npm run chaos:cluster -- --minutes N [--seed n] [--kill-every s] [--sharded]`: the long chaos run on a Redis Cluster
// (test/resilience/cluster-chaos.ts). Exits 1 if a confirmed job was lost.
import { parseArgs } from 'node:util';
import { runClusterChaos } from './cluster-chaos.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '5' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    'kill-every': { type: 'string', default: '2' },
    sharded: { type: 'boolean', default: false },
  },
});

const started = Date.now();
const report = await runClusterChaos({
  durationMs: Number(values.minutes) * 60_000,
  workerKillEveryMs: Number(values['kill-every']) * 1000,
  seed: Number(values.seed),
  sharded: values.sharded,
  log: (line) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${line}\n`),
});
const summary = {
  seed: Number(values.seed),
  minutes: Number(values.minutes),
  sharded: values.sharded,
  confirmed: report.confirmed,
  performed: report.performed,
  lost: report.lost.length,
  duplicated: report.duplicated.length,
  failedByReason: report.failedByReason,
  failedEnqueues: report.failedEnqueues,
  workerKills: report.workerKills,
  failover: report.failover,
  confirmedAfterFailover: report.confirmedAfterFailover,
};
process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
if (report.lost.length > 0) process.stdout.write(`LOST: ${report.lost.slice(0, 50).join(', ')}\n`);
process.exit(report.lost.length === 0 && report.performed === report.confirmed ? 0 : 1);
