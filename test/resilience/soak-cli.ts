// `npm run soak -- --minutes 10 [--rate 300] [-- extra resque work args]`: steady load, memory sampled.
import { parseArgs } from 'node:util';
import { runSoak } from './soak.js';

const { values, positionals } = parseArgs({
  options: { minutes: { type: 'string', default: '10' }, rate: { type: 'string', default: '300' } },
  allowPositionals: true,
});
const started = Date.now();
const report = await runSoak({
  durationMs: Number(values.minutes) * 60_000,
  jobsPerSecond: Number(values.rate),
  sampleEveryMs: 10_000,
  workerArgs: positionals,
  log: (line) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0)}s] ${line}\n`),
});
const { samples, ...summary } = report;
process.stdout.write(
  `${JSON.stringify({ minutes: Number(values.minutes), samples: samples.length, ...summary }, null, 2)}\n`,
);
