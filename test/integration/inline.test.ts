import { describe, expect, it } from 'vitest';
import { defineJob, UnknownJobClassError } from '../../src/index.js';
import { inlineResque } from '../../src/testing/index.js';

describe('inline mode', () => {
  it('performs at once with JSON round-tripped arguments and perform hooks', async () => {
    const seen: unknown[] = [];
    const Job = defineJob({
      className: 'InlineJob',
      queue: 'inline',
      perform: (ctx, value: { nested: number[] }) => {
        seen.push(ctx.queue, value);
      },
      hooks: { before_perform: () => void seen.push('before') },
    });
    const resque = inlineResque({ jobs: [Job] });
    const original = { nested: [1, 2] };
    await resque.enqueue(Job, original);
    expect(seen).toEqual(['before', 'inline', { nested: [1, 2] }]);
    expect(seen[2]).not.toBe(original);
    expect(resque.redis.status).toBe('wait');
  });

  it('propagates errors to the caller and refuses unknown classes', async () => {
    const Boom = defineJob({
      className: 'Boom',
      queue: 'inline',
      perform: () => {
        throw new Error('kaboom');
      },
    });
    const resque = inlineResque();
    await expect(resque.enqueue(Boom)).rejects.toThrow('kaboom');
    await expect(resque.enqueueTo('q', 'Nope')).rejects.toBeInstanceOf(UnknownJobClassError);
  });
});
