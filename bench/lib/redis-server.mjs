// The benchmark's private redis-server: a free loopback port (never 6379), no persistence, stopped by its PID.
// Also what the runner reads from it: command counts and CPU time (INFO), and redis-benchmark's ceiling.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freeLoopbackPort, launchRedisServer } from '../../dist/redis/server-process.js';

const run = promisify(execFile);

/**
 * Starts redis-server (with `extraArgs` after the harness's own); `stop()` kills that PID and removes its folder. Also
 * killed if the runner exits.
 */
export async function startRedisServer({ extraArgs = [] } = {}) {
  const port = await freeLoopbackPort();
  const dir = mkdtempSync(join(tmpdir(), 'resque-bench-redis-'));
  const child = await launchRedisServer({
    binary: 'redis-server',
    port,
    dir,
    appendOnly: false,
    extraArgs,
    stderr: 'inherit',
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  const admin = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: null });
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid,
    admin,
    async version() {
      const info = await admin.info('server');
      return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
    },
    async stop() {
      admin.disconnect();
      process.off('exit', killOnExit);
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Calls per command since the last CONFIG RESETSTAT, and Redis's own CPU seconds. */
export async function redisWork(admin) {
  const [stats, cpu] = await Promise.all([admin.info('commandstats'), admin.info('cpu')]);
  const calls = {};
  for (const match of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[match[1]] = Number(match[2]);
  const user = Number(/used_cpu_user:([\d.]+)/.exec(cpu)?.[1] ?? 0);
  const sys = Number(/used_cpu_sys:([\d.]+)/.exec(cpu)?.[1] ?? 0);
  return { calls, cpuSeconds: user + sys };
}

/** What happened in Redis between two `redisWork` readings, per job: commands (scripts count their inner calls). */
export function workPerJob(before, after, jobs) {
  let commands = 0;
  const byCommand = {};
  for (const [name, count] of Object.entries(after.calls)) {
    if (name === 'info') continue;
    const delta = count - (before.calls[name] ?? 0);
    if (delta > 0) {
      byCommand[name] = delta / jobs;
      commands += delta;
    }
  }
  return {
    commandsPerJob: commands / jobs,
    cpuMicrosPerJob: ((after.cpuSeconds - before.cpuSeconds) * 1e6) / jobs,
    byCommand,
  };
}

/** `redis-benchmark -q -n <n> -t lpush,lpop` against our server: requests per second per command. */
export async function redisBenchmark(port, requests) {
  const args = ['-h', '127.0.0.1', '-p', String(port), '-q', '-n', String(requests), '-t', 'lpush,lpop'];
  const { stdout } = await run('redis-benchmark', args);
  const rates = {};
  // -q prints progress with carriage returns before each final line.
  for (const line of stdout.split(/[\r\n]+/)) {
    const match = /^(\w+): ([\d.]+) requests per second/.exec(line.trim());
    if (match) rates[match[1].toLowerCase()] = Number(match[2]);
  }
  return rates;
}
