// The one rule for finding Redis (config/redis-source.ts), as the library and the CLI's flags apply it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/command.js';
import { exitsWithParent } from '../../src/cli/parent-watch.js';
import { commandLineRedisSource } from '../../src/cli/private-redis.js';
import { chooseRedis, describeRedisChoice } from '../../src/config/redis-source.js';
import { RedisConnectionError, resolveConfig } from '../../src/index.js';

/** A data folder where an embedded server "runs": this process stands in for it (its pid is alive). */
function runningEmbedded(port: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'resque-ts-choice-'));
  writeFileSync(join(dir, 'redis.pid'), `${process.pid}\n`);
  writeFileSync(join(dir, 'redis.port'), `${port}\n`);
  return dir;
}

describe('chooseRedis', () => {
  const url = 'redis://cache.internal:6380';

  it('takes the redis option, then REDIS_URL, then the default', () => {
    expect(chooseRedis({ redis: url }, { REDIS_URL: 'redis://other:1' })).toEqual({
      target: url,
      source: 'options',
    });
    expect(chooseRedis({}, { REDIS_URL: url })).toEqual({ target: url, source: 'REDIS_URL' });
    expect(chooseRedis({}, {})).toEqual({ target: 'redis://127.0.0.1:6379', source: 'default' });
  });

  it('finds the running embedded server through its data folder when asked, never by itself', () => {
    const dir = runningEmbedded(41234);
    const env = { RESQUE_DATA_DIR: dir };
    expect(chooseRedis({}, env).source).toBe('default');
    expect(chooseRedis({}, { ...env, RESQUE_EMBEDDED_REDIS: '1' })).toEqual({
      target: 'redis://127.0.0.1:41234',
      source: 'embedded',
    });
    expect(chooseRedis({ embeddedRedis: true }, env).source).toBe('embedded');
  });

  it('lets REDIS_URL outrank RESQUE_EMBEDDED_REDIS, and the embeddedRedis option outrank REDIS_URL', () => {
    const env = { RESQUE_DATA_DIR: runningEmbedded(41235), REDIS_URL: url };
    expect(chooseRedis({}, { ...env, RESQUE_EMBEDDED_REDIS: 'yes' }).source).toBe('REDIS_URL');
    expect(chooseRedis({ embeddedRedis: true }, env).target).toBe('redis://127.0.0.1:41235');
    expect(
      chooseRedis(
        { embeddedRedis: false },
        { RESQUE_DATA_DIR: env.RESQUE_DATA_DIR, RESQUE_EMBEDDED_REDIS: '1' },
      ).source,
    ).toBe('default');
  });

  it('names the folder and what to do when no embedded server runs there', () => {
    const dir = mkdtempSync(join(tmpdir(), 'resque-ts-choice-'));
    const attempt = () => chooseRedis({}, { RESQUE_DATA_DIR: dir, RESQUE_EMBEDDED_REDIS: '1' });
    expect(attempt).toThrow(RedisConnectionError);
    expect(attempt).toThrow(`the embedded redis-server of ${dir}: none is running there`);
    expect(attempt).toThrow(/--embedded-redis/);
  });

  it('is what resolveConfig uses, and says where Redis came from', () => {
    expect(resolveConfig({}, { REDIS_URL: url })).toMatchObject({ redis: url, redisSource: 'REDIS_URL' });
    expect(resolveConfig({}, {})).toMatchObject({ redisSource: 'default', redisIsDefault: true });
    expect(describeRedisChoice({ target: url, source: 'REDIS_URL' })).toBe(`${url} (from REDIS_URL)`);
    expect(describeRedisChoice({ target: 'redis://:secret@h:1', source: 'options' }, '--redis')).toBe(
      'redis://h:1 (from --redis)',
    );
    expect(describeRedisChoice({ target: 'redis://127.0.0.1:6379', source: 'default' })).toBe(
      'redis://127.0.0.1:6379 (default)',
    );
  });
});

describe('the command line', () => {
  it('runs on the embedded server for --embedded-redis, RESQUE_EMBEDDED_REDIS and demo, unless a Redis is named', () => {
    expect(commandLineRedisSource({}, {})).toBe('default');
    expect(commandLineRedisSource({ 'embedded-redis': true }, { REDIS_URL: 'redis://x:1' })).toBe('embedded');
    expect(commandLineRedisSource({}, { RESQUE_EMBEDDED_REDIS: '1' })).toBe('embedded');
    expect(commandLineRedisSource({}, { RESQUE_EMBEDDED_REDIS: '1', REDIS_URL: 'redis://x:1' })).toBe(
      'REDIS_URL',
    );
    expect(commandLineRedisSource({}, {}, true)).toBe('embedded');
    expect(commandLineRedisSource({}, { REDIS_URL: 'redis://x:1' }, true)).toBe('REDIS_URL');
    expect(commandLineRedisSource({ redis: 'redis://x:1' }, {}, true)).toBe('options');
    expect(() => commandLineRedisSource({ redis: 'redis://x:1', 'embedded-redis': true }, {})).toThrow(
      UsageError,
    );
  });

  it('watches the parent with --exit-with-parent, RESQUE_EXIT_WITH_PARENT, or when npm started the worker', () => {
    expect(exitsWithParent(false, {})).toBe(false);
    expect(exitsWithParent(true, {})).toBe(true);
    expect(exitsWithParent(false, { RESQUE_EXIT_WITH_PARENT: '1' })).toBe(true);
    expect(exitsWithParent(false, { npm_command: 'exec' })).toBe(true);
    expect(exitsWithParent(false, { npm_command: 'run-script', RESQUE_EXIT_WITH_PARENT: '0' })).toBe(false);
    expect(exitsWithParent(true, { RESQUE_EXIT_WITH_PARENT: '0' })).toBe(true);
    expect(exitsWithParent(false, { npm_command: 'exec', BACKGROUND: 'yes' })).toBe(false);
    expect(
      exitsWithParent(false, { npm_command: 'exec', BACKGROUND: 'yes', RESQUE_EXIT_WITH_PARENT: '1' }),
    ).toBe(true);
  });
});
