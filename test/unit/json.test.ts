import { describe, expect, it } from 'vitest';
import { InvalidArgumentsError } from '../../src/index.js';
import { assertJsonSafe } from '../../src/protocol/json.js';

describe('assertJsonSafe', () => {
  it('accepts what JSON carries exactly', () => {
    expect(() =>
      assertJsonSafe([1, 'a', null, true, [], {}, { nested: [1.5, -0, { x: 'y' }] }], 'args'),
    ).not.toThrow();
    expect(() => assertJsonSafe([Object.create(null)], 'args')).not.toThrow();
  });

  const cycle: Record<string, unknown> = {};
  cycle['self'] = cycle;
  class Point {
    constructor(readonly x = 1) {}
  }
  // biome-ignore lint/suspicious/noSparseArray: the hole is the point of this case
  const sparse = [1, , 3];

  it.each([
    ['undefined', [undefined], 'args[0]', /undefined/],
    ['a function', [() => 1], 'args[0]', /function/],
    ['a symbol', [Symbol('s')], 'args[0]', /symbol/],
    ['a BigInt', [10n], 'args[0]', /BigInt/],
    ['NaN', [Number.NaN], 'args[0]', /NaN/],
    ['Infinity', [{ n: Number.POSITIVE_INFINITY }], 'args[0].n', /Infinity/],
    ['a cycle', [cycle], 'args[0].self', /cycle/],
    ['a Date', [{ when: new Date(0) }], 'args[0].when', /Date/],
    ['a Map', [new Map()], 'args[0]', /Map/],
    ['a class instance', [new Point()], 'args[0]', /Point/],
    ['a sparse array', [sparse], 'args[0][1]', /hole/],
    ['undefined inside an object', [{ a: undefined }], 'args[0].a', /undefined/],
  ])('rejects %s with its path', (_label, value, path, reason) => {
    let caught: unknown;
    try {
      assertJsonSafe(value, 'args');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidArgumentsError);
    expect((caught as InvalidArgumentsError).path).toBe(path);
    expect((caught as Error).message).toMatch(reason);
  });
});
