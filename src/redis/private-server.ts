import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { RedisNotInstalledError } from '../errors/index.js';
import {
  findExecutable,
  freeLoopbackPort,
  LOOPBACK,
  launchRedisServer,
  pingRedis,
} from './server-process.js';

export { redisAnswers } from './server-process.js';

/**
 * The embedded Redis: a private `redis-server` the CLI starts for `resque demo` and for `--embedded-redis`
 * (`RESQUE_EMBEDDED_REDIS=1`). Its data lives in a project folder (AOF on), so queued jobs survive a restart of the
 * CLI. Commands started on the same folder while it runs share it, and the last one to exit stops it; a library
 * process asked for it finds the running one through the same folder (`runningPrivateRedisUrl`).
 */

/** Where the private server keeps its data, relative to the working directory. */
export const PRIVATE_REDIS_DIR = '.resque-data';

/** The data folder of the embedded server: `RESQUE_DATA_DIR`, else `./.resque-data`, as an absolute path. */
export function privateRedisDir(env: Readonly<Record<string, string | undefined>>): string {
  return resolve(env['RESQUE_DATA_DIR'] || PRIVATE_REDIS_DIR);
}

/**
 * The URL of the embedded server running on `dataDir`, read from its pid and port files (synchronously, so options
 * can be resolved in a constructor); undefined when none runs there.
 */
export function runningPrivateRedisUrl(dataDir: string): string | undefined {
  const pid = readNumber(join(dataDir, FILES.pid));
  const port = readNumber(join(dataDir, FILES.port));
  if (pid === undefined || port === undefined || !isAlive(pid)) return undefined;
  return `redis://${HOST}:${port}`;
}

export interface PrivateRedisOptions {
  /** Data folder (AOF, pid, port, log). Default `./.resque-data`. */
  dataDir?: string;
  /** Search path for `redis-server` (the PATH of the command's environment). */
  searchPath: string;
  /** How long to wait for the server to answer. Default 10000. */
  startTimeoutMs?: number;
}

export interface PrivateRedis {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly dataDir: string;
  /** True when this call launched the server; false when it joined one another command had started. */
  readonly started: boolean;
  /**
   * Stops using the server. The last user to leave stops it (SIGTERM: Redis flushes its AOF) and waits for it to
   * exit; while other commands still use it, it keeps running for them.
   */
  stop(): Promise<void>;
  /** Like `stop` without waiting, for `process.on('exit')`, where nothing asynchronous can run. */
  stopNow(): void;
}

const HOST = LOOPBACK;
const FILES = {
  pid: 'redis.pid',
  port: 'redis.port',
  users: 'users',
  lock: 'redis.lock',
  log: 'redis.log',
};

/** Starts (or joins) the private server of `dataDir`. Throws RedisNotInstalledError when redis-server is missing. */
export async function startPrivateRedis(options: PrivateRedisOptions): Promise<PrivateRedis> {
  const dataDir = resolve(options.dataDir ?? PRIVATE_REDIS_DIR);
  const timeoutMs = options.startTimeoutMs ?? 10_000;
  mkdirSync(dataDir, { recursive: true });
  const release = await acquireLock(dataDir, timeoutMs);
  try {
    const running = await runningServer(dataDir);
    if (running) return running;
    const binary = findExecutable('redis-server', options.searchPath);
    if (!binary) throw new RedisNotInstalledError();
    return await launch(binary, dataDir, timeoutMs);
  } finally {
    release();
  }
}

async function launch(binary: string, dataDir: string, timeoutMs: number): Promise<PrivateRedis> {
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freeLoopbackPort();
    try {
      const child = await launchRedisServer({
        binary,
        port,
        dir: dataDir,
        appendOnly: true,
        extraArgs: ['--pidfile', join(dataDir, FILES.pid), '--logfile', join(dataDir, FILES.log)],
        detached: true,
        startTimeoutMs: timeoutMs,
        describeFailure: () => logTail(dataDir),
      });
      writeFileSync(
        join(dataDir, FILES.port),
        `${port}
`,
      );
      return handle(dataDir, port, child.pid!, child);
    } catch (error) {
      lastError = error as Error;
      if (!/already in use/i.test(lastError.message)) break;
    }
  }
  throw lastError ?? new Error('redis-server did not start');
}

/** The server an earlier command started on this folder, if it still answers. */
async function runningServer(dataDir: string): Promise<PrivateRedis | undefined> {
  const pid = readNumber(join(dataDir, FILES.pid));
  const port = readNumber(join(dataDir, FILES.port));
  if (pid === undefined || port === undefined || !isAlive(pid)) return undefined;
  if ((await pingRedis(HOST, port)) !== 'pong') return undefined;
  return handle(dataDir, port, pid, undefined);
}

/**
 * A process's use of the server: registered as a file in `users/` (pid first), so the last user to leave, whoever
 * started the server, is the one that stops it. Called with the folder lock held.
 */
function handle(dataDir: string, port: number, pid: number, child: ChildProcess | undefined): PrivateRedis {
  const users = join(dataDir, FILES.users);
  mkdirSync(users, { recursive: true });
  const me = join(users, `${process.pid}-${randomBytes(4).toString('hex')}`);
  writeFileSync(me, '');
  let left = false;
  /** Leaves; true when nobody else uses the server, which has then been sent SIGTERM (it flushes its AOF). */
  const leave = (): boolean => {
    if (left) return false;
    left = true;
    rmSync(me, { force: true });
    if (liveUsers(users) > 0) return false;
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
    rmSync(join(dataDir, FILES.port), { force: true });
    return true;
  };
  return {
    url: `redis://${HOST}:${port}`,
    port,
    pid,
    dataDir,
    started: child !== undefined,
    stopNow: () => void leave(),
    async stop() {
      if (left) return;
      const release = await acquireLock(dataDir, 10_000);
      try {
        if (leave()) await (child ? childExit(child) : serverGone(dataDir, pid));
      } finally {
        release();
      }
    },
  };
}

/** Users whose process is alive; files of dead ones (a command killed with -9) are removed. */
function liveUsers(users: string): number {
  let live = 0;
  for (const name of readdirSync(users)) {
    const pid = Number.parseInt(name, 10);
    if (Number.isInteger(pid) && isAlive(pid)) live++;
    else rmSync(join(users, name), { force: true });
  }
  return live;
}

function childExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  child.ref();
  return new Promise((done) => child.once('exit', () => done()));
}

/** Redis removes its pid file once it has flushed everything; a process we did not start may linger as a zombie. */
async function serverGone(dataDir: string, pid: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (isAlive(pid) && existsSync(join(dataDir, FILES.pid)) && Date.now() < deadline) await sleep(25);
}

/** A lock file holding our pid, so two CLIs starting together do not both launch a server on one folder. */
async function acquireLock(dataDir: string, timeoutMs: number): Promise<() => void> {
  const path = join(dataDir, FILES.lock);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeFileSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readNumber(path);
      if (holder === undefined || !isAlive(holder)) rmSync(path, { force: true });
      else if (Date.now() > deadline) throw new Error(`${path} is held by process ${holder}`);
      else await sleep(50);
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readNumber(path: string): number | undefined {
  try {
    const value = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(value) && value > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

function logTail(dataDir: string): string {
  try {
    return readFileSync(join(dataDir, FILES.log), 'utf8').trim().split('\n').slice(-3).join(' | ');
  } catch {
    return '(no log)';
  }
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
