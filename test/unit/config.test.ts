import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULTS, resolveConfig } from '../../src/index.js';

describe('resolveConfig', () => {
  it('fills every option from DEFAULTS and freezes the result', () => {
    const config = resolveConfig({}, {});
    expect(config.namespace).toBe('resque');
    expect(config.intervalMs).toBe(DEFAULTS.intervalMs);
    expect(config.redis).toBe('redis://127.0.0.1:6379');
    expect(config.redisIsDefault).toBe(true);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.queues)).toBe(true);
  });

  it('reads the environment, and options win over it', () => {
    const env = {
      REDIS_URL: 'redis://10.0.0.1:7000/2',
      RESQUE_NAMESPACE: 'resque:GitHub',
      QUEUE: 'low',
      QUEUES: ' critical , high,,low ',
      INTERVAL: '0.5',
      RESQUE_TERM_TIMEOUT: '10',
      GRACEFUL_TERM: '1',
      VVERBOSE: '1',
    };
    const config = resolveConfig({ namespace: 'mine' }, env);
    expect(config.redis).toBe('redis://10.0.0.1:7000/2');
    expect(config.redisIsDefault).toBe(false);
    expect(config.namespace).toBe('mine');
    expect(config.queues).toEqual(['critical', 'high', 'low']);
    expect(config.intervalMs).toBe(500);
    expect(config.termTimeoutMs).toBe(10_000);
    expect(config.gracefulTerm).toBe(true);
    expect(config.logLevel).toBe('debug');
  });

  it('accepts rediss:// URLs and unix sockets', () => {
    expect(resolveConfig({ redis: 'rediss://user:pw@host:6380' }, {}).redis).toBe(
      'rediss://user:pw@host:6380',
    );
    expect(resolveConfig({ redis: '/run/redis.sock' }, {}).redis).toBe('/run/redis.sock');
    expect(resolveConfig({ redis: 'unix:///run/redis.sock' }, {}).redis).toBe('unix:///run/redis.sock');
  });

  it.each([
    [{ namespace: '' }, 'namespace'],
    [{ namespace: 'ends:' }, 'namespace'],
    [{ redis: 'http://x' }, 'redis'],
    [{ redis: 'not a url' }, 'redis'],
    [{ concurrency: 0 }, 'concurrency'],
    [{ concurrency: 1.5 }, 'concurrency'],
    [{ intervalMs: -1 }, 'intervalMs'],
    [{ heartbeatIntervalMs: 0 }, 'heartbeatIntervalMs'],
    [{ deadWorkerAfterMs: 1000, heartbeatIntervalMs: 2000 }, 'deadWorkerAfterMs'],
    [{ failureBackend: 'mongo' as 'redis' }, 'failureBackend'],
    [{ onTermTimeout: 'drop' as 'fail' }, 'onTermTimeout'],
    [{ logLevel: 'loud' as 'info' }, 'logLevel'],
    [{ queues: [''] }, 'queues'],
  ])('rejects %j naming the option', (options, option) => {
    expect(() => resolveConfig(options, {})).toThrow(ConfigError);
    try {
      resolveConfig(options, {});
    } catch (error) {
      expect((error as ConfigError).option).toBe(option);
      expect((error as ConfigError).code).toBe('CONFIG_INVALID');
    }
  });

  it('rejects unusable environment values naming the variable', () => {
    expect(() => resolveConfig({}, { INTERVAL: 'soon' })).toThrow(/Invalid option "INTERVAL"/);
    expect(() => resolveConfig({}, { CONCURRENCY: 'many' })).toThrow(/Invalid option "CONCURRENCY"/);
  });
});
