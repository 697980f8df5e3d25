// `npm run chaos -- --minutes N [--workers n] [--concurrency n] [--seed n]`: the long chaos run.
import { parseArgs } from 'node:util';
import { runChaos } from './chaos.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    workers: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '4' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    'jobs-per-second': { type: 'string', default: '200' },
    'fault-every': { type: 'string', default: '2' },
  },
});

const started = Date.now();
const report = await runChaos({
  durationMs: Number(values.minutes) * 60_000,
  workers: Number(values.workers),
  concurrency: Number(values.concurrency),
  seed: Number(values.seed),
  jobsPerSecond: Number(values['jobs-per-second']),
  faultEveryMs: Number(values['fault-every']) * 1000,
  log: (line) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${line}\n`),
});
const summary = {
  seed: Number(values.seed),
  minutes: Number(values.minutes),
  jobs: report.jobs,
  performed: report.performed,
  lost: report.lost.length,
  duplicated: report.duplicated.length,
  unexplainedDuplicates: report.unexplainedDuplicates.length,
  failedByReason: report.failedByReason,
  malformedPushed: report.malformedPushed,
  faults: report.faults,
  workerStarts: report.workerStarts,
  leftBehind: report.leftBehind,
  staleRegistrations: report.staleRegistrations.length,
  staleIds: report.staleRegistrations.slice(0, 10),
  performedAndFailed: report.performedAndFailed.length,
  dirtyExitNeverStarted: report.dirtyExitNeverStarted.length,
  recoveries: report.recoveryMs.length,
  recoveryMedianMs: median(report.recoveryMs),
  recoveryMaxMs: report.recoveryMs.length > 0 ? Math.max(...report.recoveryMs) : null,
};
process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
if (report.lost.length > 0) process.stdout.write(`LOST: ${report.lost.slice(0, 50).join(', ')}\n`);
for (const id of report.unexplainedDuplicates.slice(0, 5)) {
  process.stdout.write(`duplicate ${id}: ran in ${JSON.stringify(report.executions[id])}\n`);
}
if (report.unexplainedDuplicates.length > 0)
  process.stdout.write(`UNEXPLAINED DUPLICATES: ${report.unexplainedDuplicates.slice(0, 50).join(', ')}\n`);
const ok =
  report.lost.length === 0 &&
  report.unexplainedDuplicates.length === 0 &&
  report.leftBehind === 0 &&
  report.staleRegistrations.length === 0 &&
  report.performedAndFailed.length === 0 &&
  report.dirtyExitNeverStarted.length === 0 &&
  report.recoveryMs.every((ms) => ms <= 15_000);
if (report.performedAndFailed.length > 0)
  process.stdout.write(`PERFORMED AND FAILED: ${JSON.stringify(report.performedAndFailed.slice(0, 20))}\n`);
process.exit(ok ? 0 : 1);

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
