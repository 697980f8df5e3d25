// `npm run chaos:failover [-- --seconds N]`: kill a Sentinel-managed primary under load, asynchronous and durable.
import { parseArgs } from 'node:util';
import { runFailover } from './failover.js';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '10' }, rate: { type: 'string', default: '200' } },
});
const started = Date.now();
const log = (line: string) =>
  process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${line}\n`);
let ok = true;
for (const durable of [false, true]) {
  const report = await runFailover({
    durable,
    jobsPerSecond: Number(values.rate),
    phaseMs: Number(values.seconds) * 1000,
    log,
  });
  process.stdout.write(
    `${JSON.stringify({ ...report, lost: report.lost.length, lostIds: report.lost.slice(0, 20) })}\n`,
  );
  if (durable && report.lost.length > 0) ok = false;
}
process.exit(ok ? 0 : 1);
