// The supervision options: defaults, environment (Ruby-style seconds where Resque uses them), validation.
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULTS, resolveConfig } from '../../src/index.js';

describe('supervision options', () => {
  it('default to supervised children, one per core, no spare and no limits', () => {
    const config = resolveConfig({}, {});
    expect(DEFAULTS.isolation).toBe('process');
    expect(config).toMatchObject({
      isolation: 'process',
      count: availableParallelism(),
      spare: 0,
      jobTimeoutMs: 0,
      jobTimeoutGraceMs: 5000,
      memorySoftLimitMb: 0,
      memoryHardLimitMb: 0,
      maxJobsPerChild: 0,
    });
  });

  it('come from the environment, and options win', () => {
    const env = {
      RESQUE_ISOLATION: 'none',
      COUNT: '3',
      RESQUE_SPARE: '1',
      RESQUE_JOB_TIMEOUT: '2.5',
      RESQUE_JOB_TIMEOUT_GRACE: '0.2',
      RESQUE_MEMORY_SOFT_LIMIT_MB: '256',
      RESQUE_MEMORY_HARD_LIMIT_MB: '512',
      RESQUE_MAX_JOBS_PER_CHILD: '1000',
    };
    expect(resolveConfig({}, env)).toMatchObject({
      isolation: 'none',
      count: 3,
      spare: 1,
      jobTimeoutMs: 2500,
      jobTimeoutGraceMs: 200,
      memorySoftLimitMb: 256,
      memoryHardLimitMb: 512,
      maxJobsPerChild: 1000,
    });
    expect(resolveConfig({ isolation: 'process', count: 0 }, env)).toMatchObject({
      isolation: 'process',
      count: availableParallelism(),
    });
  });

  it.each([
    [{ isolation: 'thread' as 'none' }, 'isolation'],
    [{ count: -1 }, 'count'],
    [{ count: 1.5 }, 'count'],
    [{ spare: -1 }, 'spare'],
    [{ maxJobsPerChild: 0.5 }, 'maxJobsPerChild'],
    [{ jobTimeoutMs: -1 }, 'jobTimeoutMs'],
    [{ memorySoftLimitMb: 512, memoryHardLimitMb: 256 }, 'memoryHardLimitMb'],
  ])('reject %j naming the option', (options, option) => {
    expect(() => resolveConfig(options, {})).toThrow(ConfigError);
    try {
      resolveConfig(options, {});
    } catch (error) {
      expect((error as ConfigError).option).toBe(option);
    }
  });

  it('reject unreadable environment values', () => {
    expect(() => resolveConfig({}, { RESQUE_JOB_TIMEOUT: 'soon' })).toThrow(/RESQUE_JOB_TIMEOUT/);
    expect(() => resolveConfig({}, { RESQUE_MEMORY_HARD_LIMIT_MB: '-5' })).toThrow(
      /RESQUE_MEMORY_HARD_LIMIT_MB/,
    );
    expect(() => resolveConfig({}, { COUNT: 'many' })).toThrow(/COUNT/);
  });
});
