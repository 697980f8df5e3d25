// Every mistake a user can make on the command line is one line (one JSON object with --json) and the documented
// exit code: 2 bad command line, 1 not found or could not act, 3 Redis unreachable. No stack traces.
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMAND_NAMES } from '../../src/cli/commands/index.js';
import { defineJob, Resque } from '../../src/index.js';
import { Keys } from '../../src/protocol/keys.js';
import { resqueInProcess as resque, terminalInput } from '../harness/cli-in-process.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import { FIXTURE_JOBS } from '../harness/processes.js';
import { freePort } from '../harness/redis-server.js';
import { newFailure, writeFailures } from './failure-helpers.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/cli/${name}`, import.meta.url));

/** One line, no stack frame. */
function oneLine(text: string): string {
  expect(text.endsWith('\n')).toBe(true);
  expect(text.trimEnd().split('\n')).toHaveLength(1);
  expect(text).not.toMatch(/\n\s+at /);
  return text.trimEnd();
}

/** One JSON error object on stderr: its code and message. */
function jsonError(text: string): { code: string; message: string } {
  return (JSON.parse(oneLine(text)) as { error: { code: string; message: string } }).error;
}

describe('resque command-line errors', () => {
  const redis = rawRedis();
  const namespace = uniqueNamespace('cli-errors');
  const at = ['--redis', sharedRedisUrl(), '--namespace', namespace];
  afterAll(() => redis.disconnect());

  it.each([
    [['nope'], /^resque: unknown command "nope"; the commands are work, web, /],
    [['help', 'nope'], /^resque: unknown command "nope"/],
    [
      ['failed', 'list', '--bogus', ...at],
      /^resque failed: unknown option --bogus \(see "resque failed --help"\)$/,
    ],
    [['failed', 'nope', ...at], /^resque failed: unknown subcommand "nope"; the subcommands are list, show,/],
    [['failed', 'list', '--limit', 'x', ...at], /--limit must be a positive integer, got "x"/],
    [['failed', 'show', '--all', 'x', ...at], /--all does not apply to "failed show"/],
    [['queue', 'clear', 'a:b', ...at], /^resque queue: Invalid queue name "a:b": must not contain ":"/],
    [['dequeue', 'Archive', '--queue', 'a b', ...at], /^resque dequeue: Invalid queue name "a b"/],
    [['enqueue', 'Archive', '--queue', 'a,b', ...at], /^resque enqueue: Invalid queue name "a,b"/],
    [
      ['enqueue', 'send email', '--queue', 'q', ...at],
      /^resque enqueue: Invalid job class name "send email"/,
    ],
    [['enqueue', 'Archive', 'not-json', '--queue', 'q', ...at], /argument 1 is not JSON/],
    [['enqueue', 'Archive', ...at], /--queue is required/],
    [
      ['web', '--prefix', 'resque', ...at],
      /^resque web: --prefix must start with "\/", got "resque" \(e\.g\. --prefix \/resque\)/,
    ],
    [['web', '--port', 'http', ...at], /^resque web: --port must be a port number/],
    [
      ['info', '--redis', 'http://example.com'],
      /^resque info: Invalid option "redis": unsupported scheme http:/,
    ],
    [['queue', 'empty', 'q', ...at], /^resque queue: unknown action "empty"/],
    [['queues', 'extra', '--nope', ...at], /^resque queues: unknown option --nope/],
    [['demo', '--jobs', '0', '--seed-only', ...at], /^resque demo: --jobs must be a positive integer, got 0/],
  ])('resque %j exits 2 with one line', async (args, message) => {
    const result = await resque(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(oneLine(result.stderr)).toMatch(message);
    const json = await resque([...args, '--json']);
    expect(json.code).toBe(2);
    expect(jsonError(json.stderr).code).toMatch(
      /^(USAGE|INVALID_QUEUE_NAME|INVALID_CLASS_NAME|CONFIG_INVALID)$/,
    );
  });

  // One mistake per command at least, so that no command is left out of the rule.
  const MISTAKES: Record<string, Array<[args: string[], message: RegExp]>> = {
    work: [
      [['--queues', 'q'], /^resque work: give the job code to load with --require <module>/],
      [
        ['--require', FIXTURE_JOBS],
        /^resque work: give the queues to work with --queues q1,q2 \(or QUEUES\)/,
      ],
      [
        ['--require', FIXTURE_JOBS, '--queues', 'critical,a b'],
        /^resque work: Invalid queue name "a b": must not contain whitespace/,
      ],
      [
        ['--require', FIXTURE_JOBS, '--queues', 'file_*,!sl ow'],
        /^resque work: Invalid queue name "!sl ow": must not contain whitespace/,
      ],
      [['--require', FIXTURE_JOBS, '--queues', 'a', 'b'], /^resque work: unexpected argument "b"/],
      [
        ['--require', fixture('no-jobs.mjs'), '--queues', 'q'],
        /^resque work: Invalid option "require": no job definitions in .*no-jobs\.mjs: export each defineJob/,
      ],
      [['--require', fixture('missing.mjs'), '--queues', 'q'], /module not found: .*missing\.mjs/],
      [['--require', FIXTURE_JOBS, '--queues', 'q', '--concurrency', '0'], /Invalid option "concurrency"/],
    ],
    web: [[['--prefix', 'resque'], /^resque web: --prefix must start with "\/"/]],
    info: [
      [['--bogus'], /^resque info: unknown option --bogus/],
      [['extra'], /^resque info: unexpected argument "extra"/],
    ],
    demo: [[['--jobs', '0', '--seed-only'], /^resque demo: --jobs must be a positive integer, got 0/]],
    queues: [[['extra', '--nope'], /^resque queues: unknown option --nope/]],
    queue: [[['clear', 'a:b'], /^resque queue: Invalid queue name "a:b"/]],
    limits: [[['--bogus'], /^resque limits: unknown option --bogus/]],
    enqueue: [[['send email', '--queue', 'q'], /^resque enqueue: Invalid job class name "send email"/]],
    dequeue: [[['Archive', '--queue', 'a b'], /^resque dequeue: Invalid queue name "a b"/]],
    workers: [
      [['--bogus'], /^resque workers: unknown option --bogus/],
      [['extra'], /^resque workers: unexpected argument "extra"/],
    ],
    health: [
      [['--pid', 'x'], /^resque health: --pid must be a positive integer, got "x"/],
      [['web-1'], /^resque health: unexpected argument "web-1"/],
    ],
    failed: [[['clear'], /^resque failed: add --all to clear every failure, or a filter/]],
    retries: [[['nope'], /^resque retries: unknown action "nope"/]],
    job: [[[], /^resque job: a job id is required/]],
    cancel: [[[], /^resque cancel: exactly one job id is required/]],
    scheduler: [
      [['--interval', 'x'], /^resque scheduler: --interval must be a number of seconds > 0, got "x"/],
    ],
    delayed: [[['nope'], /^resque delayed: unknown action "nope"/]],
    schedule: [[['add', 'nightly'], /^resque schedule: give exactly one of --cron or --every/]],
    'migrate-to-cluster': [[[], /^resque migrate-to-cluster: --from is required/]],
    shards: [[[], /^resque shards: the namespace is not sharded/]],
  };

  it('has a command-line mistake for every command', () => {
    expect(Object.keys(MISTAKES).sort()).toEqual([...COMMAND_NAMES].sort());
  });

  it.each(
    Object.entries(MISTAKES).flatMap(([command, cases]) =>
      cases.map(([args, message]) => [command, args, message] as const),
    ),
  )('resque %s %j: one line, exit 2; JSON under --json', async (command, args, message) => {
    // migrate-to-cluster names both of its Redis servers itself (--from, --to), not with --redis.
    const connection = command === 'migrate-to-cluster' ? [] : at;
    const result = await resque([command, ...args, ...connection]);
    expect(result.stdout).toBe('');
    expect(oneLine(result.stderr)).toMatch(message);
    expect(result.code).toBe(2);
    const json = await resque([command, ...args, ...connection, '--json']);
    expect(json.code).toBe(2);
    expect(jsonError(json.stderr).code).toMatch(
      /^(USAGE|INVALID_QUEUE_NAME|INVALID_CLASS_NAME|CONFIG_INVALID)$/,
    );
  });

  it('says which job module threw while loading, and where, in one line (exit 1)', async () => {
    const result = await resque(['work', '--require', fixture('throws-on-load.mjs'), '--queues', 'q', ...at]);
    expect(result.code).toBe(1);
    expect(oneLine(result.stderr)).toMatch(
      /^resque work: Cannot load .*throws-on-load\.mjs: Error: the job module could not read its settings \(at (file:\/\/)?\/.*throws-on-load\.mjs:2:\d+\)$/,
    );
  });

  it.each([
    ['info'],
    ['demo', '--seed-only'],
    ['queues'],
    ['queue', 'clear', 'q'],
    ['limits'],
    ['enqueue', 'Archive', '--queue', 'q'],
    ['dequeue', 'Archive', '--queue', 'q'],
    ['workers'],
    ['health'],
    ['failed', 'list'],
    ['retries', 'list'],
    ['job', '0123456789abcdef01234567'],
    ['cancel', '0123456789abcdef01234567', '--yes'],
    ['delayed', 'list'],
    ['schedule', 'list'],
  ])('resque %s with Redis down names the address and the cause (exit 3), in JSON too', async (...args) => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const result = await resque([...args, '--redis', url]);
    expect(result.code).toBe(3);
    expect(oneLine(result.stderr)).toBe(
      `resque ${args[0]}: Cannot reach Redis at ${url}: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
    const json = await resque([...args, '--redis', url, '--json']);
    expect(json.code).toBe(3);
    expect(jsonError(json.stderr).code).toBe('REDIS_CONNECTION');
  });

  it('takes a class name such as send-email on every path: defineJob, the client, the CLI', async () => {
    const SendEmail = defineJob({
      className: 'send-email',
      queue: 'mail',
      perform: async (_ctx, _to: string) => {},
    });
    const client = new Resque({ redis: sharedRedisUrl(), namespace });
    await client.enqueue(SendEmail, 'a@example.com');
    await client.enqueueTo('mail', 'send-email', 'b@example.com');
    await client.close();
    expect((await resque(['enqueue', 'send-email', '"c@example.com"', '--queue', 'mail', ...at])).code).toBe(
      0,
    );
    const removed = await resque(['dequeue', 'send-email', '--queue', 'mail', ...at, '--json']);
    expect(removed.code).toBe(0);
    expect(JSON.parse(removed.stdout)).toMatchObject({ class: 'send-email', removed: 3 });
  });

  it('says a valid but unknown queue is not there (exit 1)', async () => {
    const result = await resque(['queue', 'clear', 'nowhere', ...at]);
    expect(result.code).toBe(1);
    expect(oneLine(result.stderr)).toBe('resque queue: No queue "nowhere"');
    expect(jsonError((await resque(['dequeue', 'X', '--queue', 'nowhere', ...at, '--json'])).stderr)).toEqual(
      {
        code: 'QUEUE_NOT_FOUND',
        message: 'No queue "nowhere"',
      },
    );
  });

  it('still clears a queue Ruby made under a name resque-ts would not give one', async () => {
    const keys = new Keys(namespace);
    await redis.sadd(keys.queues, 'legacy:queue');
    await redis.rpush(keys.queue('legacy:queue'), '{"class":"Old","args":[]}');
    const result = await resque(['queue', 'clear', 'legacy:queue', ...at, '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ queue: 'legacy:queue', removed: 1 });
  });

  it('names the address and the real cause when Redis cannot be reached (exit 3)', async () => {
    const port = await freePort();
    const refused = await resque(['queues', '--redis', `redis://127.0.0.1:${port}`]);
    expect(refused.code).toBe(3);
    expect(oneLine(refused.stderr)).toBe(
      `resque queues: Cannot reach Redis at redis://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
    const json = await resque(['info', '--redis', `redis://127.0.0.1:${port}`, '--json']);
    expect(json.code).toBe(3);
    expect(jsonError(json.stderr)).toEqual({
      code: 'REDIS_CONNECTION',
      message: `Cannot reach Redis at redis://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`,
    });
    const workers = await resque(['workers', '--redis', `redis://127.0.0.1:${port}`]);
    expect(workers.code).toBe(3);
    expect(oneLine(workers.stderr)).toMatch(
      /^resque workers: Cannot reach Redis at .*: connect ECONNREFUSED/,
    );
    const unknownHost = await resque([
      'failed',
      'list',
      '--redis',
      'redis://no-such-host.invalid:6379',
      '--json',
    ]);
    expect(unknownHost.code).toBe(3);
    expect(jsonError(unknownHost.stderr).message).toMatch(
      /^Cannot reach Redis at redis:\/\/no-such-host\.invalid:6379: getaddrinfo (ENOTFOUND|EAI_AGAIN) no-such-host\.invalid$/,
    );
  });

  describe('a port in use', () => {
    let taken: Server;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      taken = createServer();
      await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
    });
    afterAll(() => new Promise<void>((resolve) => taken.close(() => resolve())));

    it('is one line naming the address (exit 1)', async () => {
      const result = await resque(['web', '--port', String(port), '--seconds', '1', ...at]);
      expect(result.code).toBe(1);
      expect(oneLine(result.stderr)).toBe(
        `resque web: 127.0.0.1:${port} is already in use (choose another with --port)`,
      );
    });
  });
});

describe('resque failed clear', () => {
  const redis = rawRedis();
  afterAll(() => redis.disconnect());

  async function withFailures(count: number) {
    const namespace = uniqueNamespace('cli-clear');
    await writeFailures(
      redis,
      namespace,
      Array.from({ length: count }, (_, i) => newFailure({ args: [i], queue: i % 2 === 0 ? 'even' : 'odd' })),
    );
    const failed = () => redis.llen(new Keys(namespace).failed);
    return { at: ['--redis', sharedRedisUrl(), '--namespace', namespace], failed };
  }

  it('refuses to clear without --all or a filter, saying what to add (exit 2)', async () => {
    const { at, failed } = await withFailures(2);
    const result = await resque(['failed', 'clear', ...at]);
    expect(result.code).toBe(2);
    expect(oneLine(result.stderr)).toBe(
      'resque failed: add --all to clear every failure, or a filter: --queue, --class, --group, --list, --retried ' +
        '(see "resque failed --help")',
    );
    expect(jsonError((await resque(['failed', 'clear', ...at, '--json'])).stderr).code).toBe('USAGE');
    expect(await failed()).toBe(2);
  });

  it('refuses before looking for Redis, so no private redis-server is started for a bad command line', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, RESQUE_DATA_DIR: '/nonexistent/resque-data' };
    delete env['REDIS_URL'];
    const result = await resque(['failed', 'clear'], { env });
    expect(result.code).toBe(2);
    expect(oneLine(result.stderr)).toMatch(/^resque failed: add --all/);
  });

  it('asks on a terminal, and a no leaves everything (exit 1)', async () => {
    const { at, failed } = await withFailures(3);
    const declined = await resque(['failed', 'clear', '--all', ...at], { stdin: terminalInput('n\n') });
    expect(declined.code).toBe(1);
    expect(declined.stderr).toBe('Remove every failure: 3 failures? [y/N] resque failed: nothing removed\n');
    expect(await failed()).toBe(3);
    const ended = await resque(['failed', 'clear', '--all', ...at], { stdin: terminalInput('') });
    expect(ended.code).toBe(1);
    expect(await failed()).toBe(3);
  });

  it('clears what a yes confirms, and only that', async () => {
    const { at, failed } = await withFailures(4);
    const result = await resque(['failed', 'clear', '--queue', 'even', ...at], {
      stdin: terminalInput('yes\n'),
    });
    expect(result.stderr).toBe('Remove the failures selected: 2 failures? [y/N] ');
    expect(result.stdout).toBe('removed 2 failures\n');
    expect(await failed()).toBe(2);
  });

  it('does not ask with --yes, nor when stdin is not a terminal', async () => {
    const { at, failed } = await withFailures(2);
    const yes = await resque(['failed', 'clear', '--queue', 'odd', '--yes', ...at], {
      stdin: terminalInput(''),
    });
    expect(yes).toEqual({ code: 0, stdout: 'removed 1 failure\n', stderr: '' });
    const piped = await resque(['failed', 'clear', '--all', ...at, '--json']);
    expect(piped.code).toBe(0);
    expect(JSON.parse(piped.stdout)).toMatchObject({ removed: 1 });
    expect(await failed()).toBe(0);
  });
});
