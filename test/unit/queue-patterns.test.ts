import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';
import { InvalidQueueNameError } from '../../src/errors/index.js';
import { NoQueueError } from '../../src/index.js';
import { assertQueueName, assertQueuePattern } from '../../src/protocol/names.js';
import { fnmatch, QueuePatterns } from '../../src/worker/queue-patterns.js';

const known = ['low', 'critical', 'high', 'high_mail', 'mail', 'default', '.hidden'];

describe('queue patterns, ordered as Ruby orders them', () => {
  it('keeps a static list as given', () => {
    const p = new QueuePatterns(['critical', 'high', 'low']);
    expect(p.dynamic).toBe(false);
    expect(p.expand([])).toEqual(['critical', 'high', 'low']);
  });
  it('puts named queues first, then the rest alphabetically', () => {
    expect(new QueuePatterns(['critical', '*']).expand(known)).toEqual([
      'critical',
      'default',
      'high',
      'high_mail',
      'low',
      'mail',
    ]);
  });
  it('applies exclusions wherever they appear', () => {
    expect(new QueuePatterns(['*', '!low']).expand(known)).toEqual([
      'critical',
      'default',
      'high',
      'high_mail',
      'mail',
    ]);
    expect(new QueuePatterns(['!low', '*', '!high*']).expand(known)).toEqual(['critical', 'default', 'mail']);
  });
  it('sorts the matches of each glob within its place', () => {
    expect(new QueuePatterns(['high*', 'mail', '*']).expand(known)).toEqual([
      'high',
      'high_mail',
      'mail',
      'critical',
      'default',
      'low',
    ]);
  });
  it('refuses a list of only exclusions', () => {
    expect(() => new QueuePatterns(['!low'])).toThrow(NoQueueError);
    expect(() => new QueuePatterns([])).toThrow('at least one queue');
  });
});

describe('fnmatch', () => {
  it.each([
    ['*', 'abc', true],
    ['*', '.hidden', false],
    ['?hidden', '.hidden', false],
    ['[.]hidden', '.hidden', false],
    ['[!a]*', '.hidden', false],
    ['.*', '.hidden', true],
    ['\\.hid*', '.hidden', true],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['[ab]x', 'bx', true],
    ['[!ab]x', 'bx', false],
    ['[a-c]x', 'cx', true],
    ['{a,b}', 'a', false],
    ['{a,b}', '{a,b}', true],
    ['a\\*', 'a*', true],
    ['a\\*', 'ab', false],
    ['mail.*', 'mail.x', true],
    ['mail.*', 'mailx', false],
  ])('%s against %s is %s', (pattern, name, expected) => {
    expect(fnmatch(pattern, name)).toBe(expected);
  });
});

describe("a worker's queue list takes the names the API takes", () => {
  it.each(['a b', 'tab\there', 'bell\u0007', '!slow down', '!!slow'])(
    'refuses %j as enqueueTo does, with the same error',
    (entry) => {
      expect(() => resolveConfig({ queues: [entry] }, {})).toThrow(InvalidQueueNameError);
      expect(() => assertQueuePattern(entry)).toThrow(InvalidQueueNameError);
      const name = entry.replace(/^!/, '');
      if (name.trim() !== '') expect(() => assertQueueName(name)).toThrow(InvalidQueueNameError);
    },
  );

  it('takes names, patterns and exclusions', () => {
    const queues = ['critical', 'file_*', '[ab]?', 'mail.*', '!slow', 'legacy-queue'];
    expect(resolveConfig({ queues }, {}).queues).toEqual(queues);
    expect(resolveConfig({}, { QUEUES: ' critical , default ' }).queues).toEqual(['critical', 'default']);
  });
});
