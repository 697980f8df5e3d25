import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort, launchRedisServer } from '../../src/redis/server-process.js';

/** A real redis-server owned by a test: its own loopback port and data folder, stopped by PID. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  readonly dir: string;
  /** SIGTERM and wait for exit (an AOF server flushes first). */
  stop(): Promise<void>;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
  /** Start again on the same port and data folder (AOF data comes back). */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: a frozen server that accepts connections but answers nothing. */
  pause(): void;
  resume(): void;
}

export interface RedisServerOptions {
  /** Persist with AOF and `appendfsync always` so a restart keeps every acknowledged write. */
  appendOnly?: boolean;
  /** Start as a replica of the server on this loopback port. */
  replicaOf?: number;
  /** More `redis-server` arguments, after the harness's own (so they win): `['--maxmemory-policy', 'allkeys-lru']`. */
  args?: string[];
}

export const freePort = freeLoopbackPort;

export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'resque-ts-redis-'));
  let child = await launch(port, dir, options);
  const exited = (proc: ChildProcess) =>
    new Promise<void>((resolve) =>
      proc.exitCode !== null || proc.signalCode !== null ? resolve() : proc.once('exit', () => resolve()),
    );
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    get pid() {
      return child.pid ?? -1;
    },
    async stop() {
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      await exited(child);
    },
    async kill() {
      child.kill('SIGKILL');
      await exited(child);
    },
    async restart() {
      child = await launch(port, dir, options);
    },
    pause() {
      child.kill('SIGSTOP');
    },
    resume() {
      child.kill('SIGCONT');
    },
  };
  return server;
}

function launch(port: number, dir: string, options: RedisServerOptions): Promise<ChildProcess> {
  return launchRedisServer({
    binary: 'redis-server',
    port,
    dir,
    appendOnly: options.appendOnly ? 'always' : false,
    // A loaded CI machine can take more than the default 10 s to start a server that fsyncs its AOF.
    startTimeoutMs: 30_000,
    extraArgs: [
      ...(options.replicaOf !== undefined ? ['--replicaof', '127.0.0.1', String(options.replicaOf)] : []),
      ...(options.args ?? []),
    ],
  });
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
