// Where a worker's time goes: one drain with `node --cpu-prof` on the worker process, summarised by self time.
//   node bench/profile.mjs [--lib resque-ts] [--concurrency 50] [--isolation none|child] [--jobs 50000] [--top 25]
//                          [--keep dir]
// Prints the functions with the most self time (a share of all samples, idle included) and the share per package,
// for the worker process and, under child isolation, for each child process (they inherit --cpu-prof).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startRedisServer } from './lib/redis-server.mjs';
import { drainRun } from './lib/scenarios.mjs';

const { values } = parseArgs({
  options: {
    lib: { type: 'string', default: 'resque-ts' },
    concurrency: { type: 'string', default: '50' },
    isolation: { type: 'string', default: 'none' },
    jobs: { type: 'string', default: '50000' },
    top: { type: 'string', default: '25' },
    keep: { type: 'string' },
  },
});

/** Self time per function and per package ("resque-ts", "ioredis", "node:internal", …) from a .cpuprofile. */
function summarise(profile) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    self.set(id, (self.get(id) ?? 0) + delta);
    total += delta;
  });
  const functions = new Map();
  const packages = new Map();
  for (const [id, micros] of self) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const key = `${functionName || '(anonymous)'} ${shortUrl(url)}${url ? `:${lineNumber + 1}` : ''}`;
    functions.set(key, (functions.get(key) ?? 0) + micros);
    const owner = packageOf(url, functionName);
    packages.set(owner, (packages.get(owner) ?? 0) + micros);
  }
  const sorted = (map) => [...map].sort((a, b) => b[1] - a[1]);
  return { total, functions: sorted(functions), packages: sorted(packages) };
}

function shortUrl(url) {
  return url.replace(/^file:\/\/.*?\/(node_modules|dist|bench)\//, '$1/');
}

function packageOf(url, name) {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const dependency = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url);
  if (dependency) return dependency[1];
  if (url.includes('/dist/')) return 'resque-ts';
  if (url.includes('/bench/')) return 'bench harness';
  if (url.startsWith('node:')) return 'node:internal';
  return url;
}

const dir = values.keep ?? mkdtempSync(join(tmpdir(), 'resque-bench-prof-'));
const server = await startRedisServer();
try {
  const sizes = { jobs: Number(values.jobs), warmup: 5000, chunk: 1000 };
  const ctx = { server, sizes, workerExecArgv: ['--cpu-prof', '--cpu-prof-dir', dir] };
  const drain = await drainRun(ctx, values.lib, Number(values.concurrency), values.isolation);
  const perJob = Object.entries(drain.work.byCommand).sort((a, b) => b[1] - a[1]);
  console.log(
    `${values.lib}, concurrency ${values.concurrency}, isolation ${values.isolation}: ` +
      `${Math.round(drain.rate)} jobs/s, ${drain.work.commandsPerJob.toFixed(2)} Redis commands per job ` +
      `(${perJob.map(([name, n]) => `${name} ${n.toFixed(3)}`).join(', ')})`,
  );
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    const { total, functions, packages } = summarise(profile);
    const share = (micros) => `${((100 * micros) / total).toFixed(1).padStart(5)}%`;
    // The worker process is the one running the benchmark child script; the others are its job children.
    const role = profile.nodes.some((node) => node.callFrame.url.endsWith('bench/lib/child.mjs'))
      ? 'worker process'
      : 'job child process';
    console.log(`\n${role} (${file}): ${(total / 1e6).toFixed(2)} s profiled`);
    console.log('Self time by package:');
    for (const [name, micros] of packages.slice(0, 10)) console.log(`${share(micros)}  ${name}`);
    console.log('Self time by function:');
    for (const [name, micros] of functions.slice(0, Number(values.top)))
      console.log(`${share(micros)}  ${name}`);
  }
} finally {
  await server.stop();
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
