import { describe, expect, it } from 'vitest';
import { RedisConnectionError, Resque } from '../../src/index.js';
import { freePort } from '../harness/redis-server.js';

describe('a Redis that is not there', () => {
  it('gives a clear connection error, not a hang', async () => {
    const port = await freePort();
    const resque = new Resque({ redis: `redis://127.0.0.1:${port}`, namespace: 'down', commandRetries: 1 });
    const failure = await resque.enqueueTo('q', 'Job', 1).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RedisConnectionError);
    expect((failure as Error).message).toContain(`127.0.0.1:${port}`);
    expect((failure as RedisConnectionError).code).toBe('REDIS_CONNECTION');
    await resque.close();
  });
});
