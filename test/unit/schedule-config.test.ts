import { describe, expect, it } from 'vitest';
import { parseDurationMs } from '../../src/scheduler/every.js';
import { argsOf, parseSchedule, parseSchedules } from '../../src/scheduler/schedule-config.js';
import { nextTick } from '../../src/scheduler/timing.js';

describe('schedule configs in resque-scheduler format', () => {
  it('reads 5- and 6-field cron, a trailing time zone, and every with first_in', () => {
    const five = parseSchedule('a', { cron: '0 5 * * *', class: 'Report', queue: 'q' });
    expect(five.timing).toMatchObject({ kind: 'cron', expression: '0 5 * * *', timezone: undefined });
    const six = parseSchedule('b', { cron: '*/30 * * * * *', class: 'Report', queue: 'q' });
    expect(nextTick(six.timing, Date.UTC(2026, 0, 1, 0, 0, 10))).toBe(Date.UTC(2026, 0, 1, 0, 0, 30));
    const zoned = parseSchedule('c', { cron: '0 5 * * * America/New_York', class: 'Report', queue: 'q' });
    expect(zoned.timing).toMatchObject({ timezone: 'America/New_York' });
    expect(nextTick(zoned.timing, Date.UTC(2026, 0, 1))).toBe(Date.UTC(2026, 0, 1, 10, 0));
    const every = parseSchedule('d', { every: ['1h30m', { first_in: '2m' }], class: 'Report', queue: 'q' });
    expect(every.timing).toMatchObject({ kind: 'every', intervalMs: 5_400_000 });
    expect(every.firstInMs).toBe(120_000);
  });

  it('defaults the class to the name and keeps Ruby fields, dropping persist and resque-ts options', () => {
    const s = parseSchedule('Report', {
      every: '30s',
      queue: 'q',
      args: { a: 1 },
      persist: true,
      missed: 'once',
      rails_env: 'production',
    });
    expect(s.className).toBe('Report');
    expect(s.args).toEqual([{ a: 1 }]);
    expect(s.rubyConfig).toEqual({ every: '30s', queue: 'q', args: { a: 1 }, rails_env: 'production' });
  });

  it('passes args as Ruby does: hash → one argument, nil → none, scalar → one', () => {
    expect(argsOf(undefined)).toEqual([]);
    expect(argsOf(null)).toEqual([]);
    expect(argsOf('x')).toEqual(['x']);
    expect(argsOf([1, 2])).toEqual([1, 2]);
  });

  it.each([
    [{ cron: '61 * * * *', queue: 'q' }, /Invalid schedule "s": invalid cron "61 \* \* \* \*"/],
    [{ cron: '* * *', queue: 'q' }, /has 3 fields/],
    [{ cron: '0 5 * * * Mars/Olympus', queue: 'q' }, /unknown time zone "Mars\/Olympus"/],
    [{ every: 'often', queue: 'q' }, /invalid every "often"/],
    [{ every: '-5s', queue: 'q' }, /invalid every "-5s"/],
    [{ queue: 'q' }, /needs cron or every/],
    [{ every: '5s' }, /no queue/],
    [{ every: '5s', queue: 'q', missed: 'sometimes' as never }, /missed must be one of skip, once, all/],
    [{ every: '5s', queue: 'q', class: 'not a class' }, /Invalid job class name/],
  ])('refuses %j with a clear message', (config, message) => {
    expect(() => parseSchedule('s', config)).toThrow(message);
  });

  it('refuses a name defined twice', () => {
    expect(() =>
      parseSchedules([
        ['x', { every: '5s', queue: 'q', class: 'A' }],
        ['x', { every: '10s', queue: 'q', class: 'A' }],
      ]),
    ).toThrow(
      expect.objectContaining({
        code: 'DUPLICATE_SCHEDULE',
        message: 'Schedule "x" is defined more than once',
      }),
    );
  });

  it('reads rufus durations', () => {
    expect(parseDurationMs('30s')).toBe(30_000);
    expect(parseDurationMs('1w2d')).toBe(9 * 86_400_000);
    expect(parseDurationMs('500ms')).toBe(500);
    expect(parseDurationMs('90')).toBe(90_000);
    expect(parseDurationMs('5 minutes')).toBeUndefined();
    expect(parseDurationMs('0s')).toBeUndefined();
  });
});
