import { afterAll, describe, expect, it } from 'vitest';
import { Keys, Resque } from '../../src/index.js';
import { resqueInProcess, terminalInput } from '../harness/cli-in-process.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';

describe('resque cancel', () => {
  const redis = rawRedis();
  afterAll(() => redis.disconnect());
  const cli = (namespace: string, args: string[], stdin?: ReturnType<typeof terminalInput>) =>
    resqueInProcess([...args, '--redis', sharedRedisUrl(), '--namespace', namespace], { stdin });

  it('cancels a delayed job, says what it found, and asks first on a terminal', async () => {
    const namespace = uniqueNamespace('cli-cancel');
    const keys = new Keys(namespace);
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    try {
      const a = await resque.enqueueAtTo('q', Date.now() + 60_000, 'Report', 1);
      const b = await resque.enqueueAtTo('q', Date.now() + 60_000, 'Report', 2);
      const declined = await cli(namespace, ['cancel', a!.id!], terminalInput('n\n'));
      expect(declined.code).toBe(1);
      expect(declined.stderr).toContain(`Cancel job ${a!.id}? [y/N]`);
      expect(await redis.zcard(keys.delayedDue)).toBe(2);

      const accepted = await cli(namespace, ['cancel', a!.id!], terminalInput('y\n'));
      expect(accepted).toMatchObject({
        code: 0,
        stdout: `cancelled ${a!.id}: removed from the delayed jobs\n`,
      });
      const json = await cli(namespace, ['cancel', b!.id!, '--json']);
      expect(JSON.parse(json.stdout)).toEqual({ id: b!.id, was: 'delayed' });
      expect(await redis.zcard(keys.delayedDue)).toBe(0);

      const unknown = await cli(
        namespace,
        ['cancel', 'feedfacefeedfacefeedface', '--yes'],
        terminalInput(''),
      );
      expect(unknown.code).toBe(0);
      expect(unknown.stdout).toContain('was not found delayed, retrying or running');

      await redis.hset(keys.jobStatus('ended'), 'state', 'completed');
      const ended = await cli(namespace, ['cancel', 'ended', '--json']);
      expect(ended.code).toBe(1);
      expect(JSON.parse(ended.stdout)).toEqual({ id: 'ended', was: 'finished', state: 'completed' });

      const bad = await cli(namespace, ['cancel', 'not an id', '--json']);
      expect(bad.code).toBe(2);
      expect(JSON.parse(bad.stderr)).toMatchObject({ error: { code: 'INVALID_JOB_ID' } });
      expect((await cli(namespace, ['cancel'])).code).toBe(2);
    } finally {
      await resque.close();
    }
  });
});
