// Delayed jobs, resque-ts against BullMQ's `delay`, on one private redis-server in the same run (bench/lib/delayed.mjs):
// enqueue one at a time and in bulk, promotion of many jobs coming due at once, and the pickup latency of a job due in
// 100 ms. `npm run bench` runs a shorter version of it with the other scenarios.
// Usage: npm run build && node bench/delayed.mjs [--jobs 20000] [--due 1000000] [--samples 300] [--write]
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { delayedFigures, delayedReport } from './lib/delayed.mjs';
import { startRedisServer } from './lib/redis-server.mjs';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '20000' },
    due: { type: 'string', default: '1000000' },
    samples: { type: 'string', default: '300' },
    write: { type: 'boolean', default: false },
  },
});
const sizes = { jobs: Number(values.jobs), due: Number(values.due), samples: Number(values.samples) };

const server = await startRedisServer();
try {
  const loadBefore = loadavg()[0].toFixed(2);
  const figures = await delayedFigures(server, {
    ...sizes,
    log: (text) => process.stderr.write(`${text}\n`),
  });
  const lines = [
    `# Delayed jobs: resque-ts and BullMQ`,
    '',
    `${new Date().toISOString()} · ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'} · node ${process.version} · Redis ${await server.version()} · load ${loadBefore} before, ${loadavg()[0].toFixed(2)} after`,
    `Command: \`node bench/delayed.mjs --jobs ${sizes.jobs} --due ${sizes.due} --samples ${sizes.samples}\``,
    '',
    ...delayedReport(figures),
  ];
  const text = `${lines.join('\n')}\n`;
  process.stdout.write(text);
  if (values.write) writeFileSync(new URL('./RESULTS-delayed.md', import.meta.url), text);
} finally {
  await server.stop();
}
