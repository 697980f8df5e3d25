// Cluster mode's configuration: the URL forms, the hash tag a namespace must carry, and what is refused.
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';
import { ConfigError } from '../../src/errors/index.js';
import { hashTagOf, isClusterUrl, parseClusterUrl } from '../../src/redis/cluster.js';
import { describeTarget } from '../../src/redis/connection.js';

describe('hashTagOf', () => {
  it('is the text between the first { and the next }, when not empty', () => {
    expect(hashTagOf('{resque}')).toBe('resque');
    expect(hashTagOf('app:{jobs}:x')).toBe('jobs');
    expect(hashTagOf('{a}{b}')).toBe('a');
    expect(hashTagOf('resque')).toBeUndefined();
    expect(hashTagOf('{}resque')).toBeUndefined();
    expect(hashTagOf('{resque')).toBeUndefined();
    expect(hashTagOf('x}{y')).toBeUndefined();
  });
});

describe('cluster URLs', () => {
  it('reads nodes, credentials and TLS', () => {
    expect(isClusterUrl('redis+cluster://a:1')).toBe(true);
    expect(isClusterUrl('rediss+cluster://a:1')).toBe(true);
    expect(isClusterUrl('redis://a:1')).toBe(false);
    expect(parseClusterUrl('redis+cluster://10.0.0.1:7000,10.0.0.2:7001')).toEqual({
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
      ],
      options: { redisOptions: {} },
    });
    expect(parseClusterUrl('rediss+cluster://user:p%40ss@cache.example:6380/')).toEqual({
      nodes: [{ host: 'cache.example', port: 6380 }],
      options: { redisOptions: { username: 'user', password: 'p@ss', tls: {} } },
    });
    expect(parseClusterUrl('redis+cluster://:secret@h').options.redisOptions).toEqual({ password: 'secret' });
    expect(parseClusterUrl('redis+cluster://h').nodes).toEqual([{ host: 'h', port: 6379 }]);
  });

  it('refuses what is not host:port, without repeating the password', () => {
    expect(() => parseClusterUrl('redis+cluster://h:0')).toThrow(ConfigError);
    expect(() => parseClusterUrl('redis+cluster://h:x')).toThrow(/host:port/);
    expect(() => parseClusterUrl('redis+cluster://')).toThrow(ConfigError);
    try {
      parseClusterUrl('redis+cluster://u:hunter2@');
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
    }
  });

  it('are described without their password', () => {
    expect(describeTarget('redis+cluster://u:hunter2@a:1,b:2')).toBe('redis+cluster://a:1,b:2');
  });
});

describe('resolving cluster mode', () => {
  const env = {};
  it('is on for a cluster URL or the cluster option, off otherwise', () => {
    expect(resolveConfig({ redis: 'redis+cluster://a:1', namespace: '{q}' }, env).cluster).toEqual({});
    expect(resolveConfig({ redis: 'redis://a:1', cluster: true, namespace: '{q}' }, env).cluster).toEqual({});
    const natMap = { '10.0.0.1:6379': { host: 'public', port: 1 } };
    expect(
      resolveConfig({ redis: 'redis://a:1', cluster: { natMap }, namespace: '{q}' }, env).cluster,
    ).toEqual({
      natMap,
    });
    expect(resolveConfig({ redis: 'redis://a:1' }, env).cluster).toBeUndefined();
    expect(resolveConfig({ redis: 'redis://a:1', cluster: false }, env).cluster).toBeUndefined();
  });

  it('needs a tagged namespace, and names the fix', () => {
    expect(() => resolveConfig({ redis: 'redis+cluster://a:1' }, env)).toThrow(
      /"\{resque\}" instead of "resque"/,
    );
    expect(() => resolveConfig({ redis: 'redis+cluster://a:1', namespace: 'app:jobs' }, env)).toThrow(
      /"\{app:jobs\}"/,
    );
    expect(() => resolveConfig({ redis: 'redis+cluster://a:1' }, { RESQUE_NAMESPACE: '{ns}' })).not.toThrow();
  });

  it('refuses a socket path, Sentinel, a client and a malformed option', () => {
    expect(() => resolveConfig({ redis: '/run/redis.sock', cluster: true, namespace: '{q}' }, env)).toThrow(
      /host:port/,
    );
    expect(() =>
      resolveConfig({ redis: 'redis+sentinel://a:1/m', cluster: true, namespace: '{q}' }, env),
    ).toThrow(ConfigError);
    expect(() => resolveConfig({ cluster: 'yes' as unknown as boolean, namespace: '{q}' }, env)).toThrow(
      /expected true, false or ioredis ClusterOptions/,
    );
  });
});
