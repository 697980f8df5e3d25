import { afterAll, describe, expect, it } from 'vitest';
import { defineJob, Keys, Resque } from '../../src/index.js';
import { resqueInProcess } from '../harness/cli-in-process.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';

const Export = defineJob({ className: 'Export', queue: 'q', status: true, perform: async () => 1 });

describe('resque job <id>', () => {
  const redis = rawRedis();
  afterAll(() => redis.disconnect());
  const cli = (namespace: string, args: string[]) =>
    resqueInProcess([...args, '--redis', sharedRedisUrl(), '--namespace', namespace]);

  it('shows a tracked job from its record, a failed untracked one from its failure record, and exits 1 for an unknown id', async () => {
    const namespace = uniqueNamespace('cli-job');
    const keys = new Keys(namespace);
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    try {
      const { id } = (await resque.enqueue(Export))!;
      await redis.hset(keys.jobStatus(id!), 'progress', '{"done":3}');
      const human = await cli(namespace, ['job', id!]);
      expect(human.code).toBe(0);
      expect(human.stdout).toContain(`job ${id}\n`);
      expect(human.stdout).toMatch(/ {2}state +queued \(its status record\)\n/);
      expect(human.stdout).toMatch(/ {2}class +Export\n/);
      expect(human.stdout).toMatch(/ {2}progress +\{"done":3\}\n/);
      // Queued, on a queue no worker takes from: the page and the command say why it waits.
      expect(human.stdout).toContain(
        'why it waits\n  no live worker takes jobs from its queue\n  1 job(s) on its queue\n',
      );
      const json = JSON.parse((await cli(namespace, ['job', id!, '--json'])).stdout);
      expect(json.status).toMatchObject({ id, state: 'queued', source: 'record', progress: { done: 3 } });
      expect(json.waiting).toEqual([{ kind: 'no-worker' }, { kind: 'queue-backlog', jobs: 1 }]);

      const error = {
        attempt: 1,
        failed_at: '2026/12/01 09:00:00 UTC',
        exception: 'Timeout',
        error: 'slow',
        backtrace: [],
      };
      await redis.rpush(
        keys.failed,
        JSON.stringify({
          failed_at: '2026/12/01 10:00:00 UTC',
          payload: { class: 'Plain', args: [1], id: 'f-1', attempt: 2, errors: [error] },
          exception: 'Boom',
          error: 'it broke',
          backtrace: ['app/plain.js:3'],
          worker: 'h:1:q',
          queue: 'q',
        }),
      );
      const failed = await cli(namespace, ['job', 'f-1']);
      expect(failed.code).toBe(0);
      expect(failed.stdout).toMatch(/state +failed \(inferred: the job is not tracked\)/);
      expect(failed.stdout).toContain('earlier attempts\n  1  2026/12/01 09:00:00 UTC  Timeout: slow\n');
      expect(failed.stdout).toContain(
        'failure record (failed, 2026/12/01 10:00:00 UTC, h:1:q)\n  Boom: it broke\n    app/plain.js:3\n',
      );

      const unknown = await cli(namespace, ['job', 'nope']);
      expect(unknown.code).toBe(1);
      expect(unknown.stdout).toMatch(/state +unknown/);
      const missing = await cli(namespace, ['job']);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('a job id is required');
    } finally {
      await resque.close();
    }
  });
});
