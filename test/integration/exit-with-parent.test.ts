// `resque work --exit-with-parent` (on by default under npm): a worker whose launcher is killed without passing the
// signal on (npx, npm run, a shell) stops as on TERM instead of running on, re-parented and still registered.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Resque } from '../../src/index.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';
import { CLI, FIXTURE_JOBS } from '../harness/processes.js';
import { removeDir } from '../harness/redis-server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const hasTini = spawnSync('tini', ['--version']).status === 0;
const PARENT = fileURLToPath(new URL('../fixtures/cli/parent-of-worker.mjs', import.meta.url));

let redis: Redis;
const dir = mkdtempSync(join(tmpdir(), 'resque-ts-parent-'));
const leftovers: number[] = [];
const children: ChildProcess[] = [];
beforeAll(() => {
  redis = rawRedis();
});
afterAll(() => {
  redis.disconnect();
  removeDir(dir);
});
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const pid of leftovers.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  }
});

/** Without npm's variables, as if started from a shell; the test runner itself may run under npm. */
function plainEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('npm_')) delete env[name];
  delete env['RESQUE_EXIT_WITH_PARENT'];
  return { ...env, ...extra };
}

function workerEnv(namespace: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return plainEnv({
    REDIS_URL: sharedRedisUrl(),
    RESQUE_NAMESPACE: namespace,
    QUEUES: 'q',
    INTERVAL: '0.2',
    RESQUE_TERM_TIMEOUT: '0.3',
    ...extra,
  });
}

/** Gone, or a zombie nobody reaps (a container's PID 1 may not): either way no longer running. */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** The worker's id and pid once it registered; npx (and a loaded machine) can take a while to start it. */
async function workerOf(namespace: string): Promise<{ id: string; pid: number }> {
  const id = await waitFor(
    async () => (await redis.smembers(`${namespace}:workers`))[0],
    50_000,
    'registration',
  );
  return { id, pid: Number(id.split(':')[1]) };
}

/** Starts `resque work` under an intermediate parent; returns the parent and the worker's pid. */
async function underParent(env: NodeJS.ProcessEnv, args: string[], log: string) {
  const parent = spawn(process.execPath, [PARENT, log, CLI, 'work', '--require', FIXTURE_JOBS, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(parent);
  let text = '';
  parent.stdout!.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  const pid = Number(await waitFor(() => /^(\d+)\n/.exec(text)?.[1], 10_000, 'the worker pid'));
  leftovers.push(pid);
  return { parent, pid };
}

describe('resque work when the process that started it is gone', () => {
  it('--exit-with-parent: stops as on TERM (the running job given back), unregisters and exits', async () => {
    const namespace = uniqueNamespace('orphan');
    const log = join(dir, `${namespace.replace(/\W/g, '-')}.log`);
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    const { parent, pid } = await underParent(
      workerEnv(namespace, { RESQUE_ISOLATION: 'none' }),
      ['--exit-with-parent', '--verbose'],
      log,
    );
    expect((await workerOf(namespace)).pid).toBe(pid);
    await resque.enqueueTo('q', 'Slow', 1, 60_000);
    await waitFor(async () => (await redis.hexists(`${namespace}:test:started`, '1')) === 1);

    parent.kill('SIGKILL');
    await waitFor(async () => (await redis.scard(`${namespace}:workers`)) === 0, 20_000, 'unregistration');
    await waitFor(() => !running(pid), 20_000, 'the worker to exit');
    const output = readFileSync(log, 'utf8');
    expect(output).toMatch(/the process that started this one \(pid \d+\) has exited; stopping as on TERM/);
    expect(output).toMatch(/SIGTERM received: stopping jobs, then exiting/);
    const [item] = await resque.peek('q');
    expect(item?.payload).toMatchObject({ class: 'Slow', args: [1, 60_000] });
    expect(await redis.llen(`${namespace}:failed`)).toBe(0);
    await resque.close();
  });

  it('a TERM that came first is not doubled by the parent going (systemd signals the whole unit)', async () => {
    const namespace = uniqueNamespace('orphan-term');
    const log = join(dir, `${namespace.replace(/\W/g, '-')}.log`);
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    const { parent, pid } = await underParent(
      workerEnv(namespace, { RESQUE_ISOLATION: 'none', RESQUE_TERM_TIMEOUT: '3' }),
      ['--exit-with-parent', '--verbose'],
      log,
    );
    await workerOf(namespace);
    await resque.enqueueTo('q', 'Slow', 1, 60_000);
    await waitFor(async () => (await redis.hexists(`${namespace}:test:started`, '1')) === 1);
    process.kill(pid, 'SIGTERM');
    await waitFor(() => readFileSync(log, 'utf8').includes('SIGTERM received'), 10_000, 'the TERM');
    parent.kill('SIGKILL');
    await waitFor(async () => (await redis.scard(`${namespace}:workers`)) === 0, 20_000, 'unregistration');
    await waitFor(() => !running(pid), 20_000, 'the worker to exit');
    const output = readFileSync(log, 'utf8');
    expect(output).not.toMatch(/again: exiting now/);
    expect(output).not.toMatch(/stopping as on TERM/);
    expect((await resque.peek('q'))[0]?.payload).toMatchObject({ class: 'Slow', args: [1, 60_000] });
    await resque.close();
  });

  it('is on by default when npm started the worker (npm_command set), supervised children included', async () => {
    const namespace = uniqueNamespace('orphan-npm');
    const log = join(dir, `${namespace.replace(/\W/g, '-')}.log`);
    const { parent, pid } = await underParent(
      workerEnv(namespace, { npm_command: 'exec', COUNT: '1' }),
      [],
      log,
    );
    const { id } = await workerOf(namespace);
    expect(id).toContain(`:${pid}:`);
    parent.kill('SIGKILL');
    await waitFor(async () => (await redis.scard(`${namespace}:workers`)) === 0, 20_000, 'unregistration');
    await waitFor(() => !running(pid), 20_000, 'the worker to exit');
    expect(readFileSync(log, 'utf8')).toMatch(/has exited; stopping as on TERM/);
  });

  it('leaves a worker backgrounded on purpose running: started from a shell (nohup), or with BACKGROUND=yes', async () => {
    const cases: Array<{ label: string; env: Record<string, string> }> = [
      { label: 'plain', env: { RESQUE_ISOLATION: 'none' } },
      { label: 'background', env: { RESQUE_ISOLATION: 'none', npm_command: 'exec', BACKGROUND: 'yes' } },
      { label: 'npm', env: { RESQUE_ISOLATION: 'none', npm_command: 'exec' } },
    ];
    const started = await Promise.all(
      cases.map(async ({ label, env }) => {
        const namespace = uniqueNamespace(`orphan-${label}`);
        const log = join(dir, `${namespace.replace(/\W/g, '-')}.log`);
        const { parent, pid } = await underParent(workerEnv(namespace, env), [], log);
        await workerOf(namespace);
        return { label, namespace, parent, pid };
      }),
    );
    for (const { parent } of started) parent.kill('SIGKILL');
    const [plain, background, npm] = started as [
      (typeof started)[0],
      (typeof started)[0],
      (typeof started)[0],
    ];
    // The npm-started one is the control: once it has noticed, the others have had their look at the parent too.
    await waitFor(() => !running(npm.pid), 20_000, 'the npm-started worker to exit');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    for (const { namespace, pid } of [plain, background]) {
      expect(running(pid)).toBe(true);
      expect(await redis.scard(`${namespace}:workers`)).toBe(1);
      process.kill(pid, 'SIGTERM');
    }
    for (const { namespace, pid } of [plain, background]) {
      await waitFor(async () => (await redis.scard(`${namespace}:workers`)) === 0, 20_000, 'unregistration');
      await waitFor(() => !running(pid), 20_000, 'the worker to exit');
    }
  });

  it('npx resque work: a TERM to npx, which does not reach the worker, still stops it', {
    timeout: 120_000,
  }, async () => {
    // An application that depends on this checkout, as `npm install <folder>` leaves it.
    const app = join(dir, 'app');
    mkdirSync(join(app, 'node_modules', '.bin'), { recursive: true });
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    symlinkSync(ROOT, join(app, 'node_modules', 'resque-ts'), 'dir');
    symlinkSync('../resque-ts/dist/cli/main.js', join(app, 'node_modules', '.bin', 'resque'));
    const namespace = uniqueNamespace('npx');
    const env = { ...workerEnv(namespace, { RESQUE_ISOLATION: 'none' }), npm_config_offline: 'true' };
    const npx = spawn('npx', ['resque', 'work', '--require', FIXTURE_JOBS], {
      cwd: app,
      env,
      stdio: 'ignore',
      detached: true,
    });
    children.push(npx);
    const { pid } = await workerOf(namespace);
    leftovers.push(pid);
    expect(pid).not.toBe(npx.pid);
    npx.kill('SIGTERM');
    await waitFor(async () => (await redis.scard(`${namespace}:workers`)) === 0, 20_000, 'unregistration');
    await waitFor(() => !running(pid), 20_000, 'the worker to exit');
  });
});

describe.skipIf(!hasTini)(
  "under tini, a container's init (docker run --init, Debian's tini as ENTRYPOINT)",
  () => {
    it("docker stop's TERM reaches the worker: the running job goes back, it unregisters and tini exits 0", async () => {
      const namespace = uniqueNamespace('tini');
      const resque = new Resque({ redis: sharedRedisUrl(), namespace });
      // -s: this test's tini is not PID 1, so it registers as the subreaper a container's PID 1 is.
      const tini = spawn('tini', ['-s', '--', process.execPath, CLI, 'work', '--require', FIXTURE_JOBS], {
        env: workerEnv(namespace, { RESQUE_ISOLATION: 'none' }),
        stdio: 'ignore',
      });
      children.push(tini);
      const exited = new Promise<number | null>((resolve) => tini.once('exit', (code) => resolve(code)));
      const { pid } = await workerOf(namespace);
      leftovers.push(pid);
      expect(pid).not.toBe(tini.pid);
      await resque.enqueueTo('q', 'Slow', 1, 60_000);
      await waitFor(async () => (await redis.hexists(`${namespace}:test:started`, '1')) === 1);
      tini.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(await redis.scard(`${namespace}:workers`)).toBe(0);
      expect((await resque.peek('q'))[0]?.payload).toMatchObject({ class: 'Slow', args: [1, 60_000] });
      await resque.close();
    });
  },
);
