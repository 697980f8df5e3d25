// Starting a real redis-server process: the one launcher behind the CLI's private server (private-server.ts), the
// tests' servers (test/harness/redis-server.ts) and the benchmark's (bench/lib/redis-server.mjs).
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { delimiter, join } from 'node:path';

export const LOOPBACK = '127.0.0.1';

export interface RedisServerSpec {
  /** The redis-server executable. */
  binary: string;
  port: number;
  /** Working directory (AOF, RDB, nodes.conf). */
  dir: string;
  /** `always`: AOF with `appendfsync always` (a restart keeps every acknowledged write); true: AOF; false: none. */
  appendOnly: boolean | 'always';
  /** Further `--name value` arguments (pidfile, logfile, replicaof, cluster settings). */
  extraArgs?: readonly string[];
  /** Leave it running when this process exits (the CLI's shared private server). */
  detached?: boolean;
  /** Pass its stderr through (the benchmark) instead of dropping it. */
  stderr?: 'inherit' | 'ignore';
  /** How long to wait for its PONG. Default 10000. */
  startTimeoutMs?: number;
  /** Said when it exits before answering (e.g. the tail of its log). */
  describeFailure?: () => string;
}

type PingResult = 'pong' | 'reply' | 'none';

/** Sends PING over a raw socket: `pong`, another Redis reply (e.g. `-NOAUTH`, `-LOADING`), or `none`. */
export function pingRedis(host: string, port: number, timeoutMs = 500): Promise<PingResult> {
  return new Promise((done) => {
    const socket = createConnection({ host, port });
    const finish = (result: PingResult) => {
      socket.destroy();
      done(result);
    };
    socket.setTimeout(timeoutMs, () => finish('none'));
    socket.once('error', () => finish('none'));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      const text = data.toString('latin1');
      finish(text.startsWith('+PONG') ? 'pong' : /^[-+]/.test(text) ? 'reply' : 'none');
    });
  });
}

/** True when something that speaks Redis answers at host:port (even if it refuses us, e.g. NOAUTH). */
export async function redisAnswers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return (await pingRedis(host, port, timeoutMs)) !== 'none';
}

/** The first executable called `name` on a PATH-style search path. */
export function findExecutable(name: string, searchPath: string): string | undefined {
  for (const dir of searchPath.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A free port on the loopback interface, never Redis's default 6379. */
export async function freeLoopbackPort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((done, fail) => {
      const server = createServer();
      server.once('error', fail);
      server.listen(0, LOOPBACK, () => {
        const address = server.address();
        server.close(() => done(typeof address === 'object' && address ? address.port : 0));
      });
    });
    if (port !== 6379 && port !== 0) return port;
  }
}

/** Spawns redis-server bound to the loopback interface and waits until it answers PING; kills it if it does not. */
export async function launchRedisServer(spec: RedisServerSpec): Promise<ChildProcess> {
  const args = [
    '--port',
    String(spec.port),
    '--bind',
    LOOPBACK,
    '--dir',
    spec.dir,
    '--save',
    '',
    '--daemonize',
    'no',
  ];
  if (spec.appendOnly) args.push('--appendonly', 'yes');
  else args.push('--appendonly', 'no');
  if (spec.appendOnly === 'always') args.push('--appendfsync', 'always');
  args.push(...(spec.extraArgs ?? []));
  const child = spawn(spec.binary, args, {
    detached: spec.detached ?? false,
    stdio: ['ignore', 'ignore', spec.stderr ?? 'ignore'],
  });
  if (spec.detached) child.unref();
  const timeoutMs = spec.startTimeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  const why = () => (spec.describeFailure ? `: ${spec.describeFailure()}` : '');
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server on port ${spec.port} exited at start-up${why()}`);
    }
    if ((await pingRedis(LOOPBACK, spec.port, 250)) === 'pong') return child;
    await new Promise((done) => setTimeout(done, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not answer on ${LOOPBACK}:${spec.port} within ${timeoutMs} ms${why()}`);
}
