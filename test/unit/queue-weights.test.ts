// Weighted mode between queues (docs/flow-control.md, Weighted queues): the `queue:N` syntax, its checks, and the
// order of turns.
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';
import { ConfigError } from '../../src/errors/index.js';
import { formatWorkerId } from '../../src/protocol/worker-id.js';
import { QueuePatterns } from '../../src/worker/queue-patterns.js';
import { splitQueueWeights, WeightedTurns } from '../../src/worker/queue-weights.js';

describe('queue weights', () => {
  it('splits name:N entries off the list; a list without any keeps the strict order', () => {
    expect(splitQueueWeights(['critical:5', 'default:1', 'low'])).toEqual({
      queues: ['critical', 'default', 'low'],
      weights: new Map([
        ['critical', 5],
        ['default', 1],
      ]),
    });
    expect(splitQueueWeights(['a', 'b', '!c']).weights.size).toBe(0);
    expect(splitQueueWeights(['mail_*:3', '!mail_bulk']).queues).toEqual(['mail_*', '!mail_bulk']);
  });

  it('refuses a weight that is not a whole number from 1 to 1000, on an exclusion, or twice', () => {
    for (const bad of [['a:0'], ['a:1001'], ['a:1.5'], ['a:'], [':3'], ['a:b:2'], ['!a:2'], ['a:2', 'a:3']])
      expect(() => splitQueueWeights(bad), bad.join(',')).toThrow(ConfigError);
  });

  it('takes weights from QUEUES and options; worker ids carry the names only', () => {
    const config = resolveConfig({}, { QUEUES: 'critical:5,default' });
    expect(config.queues).toEqual(['critical', 'default']);
    expect(config.queueWeights).toEqual(new Map([['critical', 5]]));
    expect(formatWorkerId('host', 1, config.queues)).toBe('host:1:critical,default');
    expect(resolveConfig({ queues: ['a', 'b'] }, {}).queueWeights.size).toBe(0);
    expect(() => resolveConfig({ queues: ['a:x'] }, {})).toThrow(ConfigError);
  });

  it('gives each entry the first place as often as its weight, spread out', () => {
    const turns = new WeightedTurns([5, 1]);
    expect(Array.from({ length: 12 }, () => turns.next())).toEqual([0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0]);
    const three = new WeightedTurns([2, 1, 1]);
    expect(Array.from({ length: 8 }, () => three.next())).toEqual([0, 1, 2, 0, 0, 1, 2, 0]);
  });

  it('gives the reservation call the entry whose turn it is (the script takes the others after it in their order)', () => {
    expect(new QueuePatterns(['a', 'b', 'c']).nextTurn()).toBeUndefined();
    const weighted = new QueuePatterns(['a', 'b', 'c'], new Map([['b', 2]]));
    expect(Array.from({ length: 4 }, () => weighted.nextTurn())).toEqual([1, 0, 2, 1]);
  });
});
