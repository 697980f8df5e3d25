// When delayed jobs are overdue (no process promotes them): the decision, the count and the warning, by an injected
// clock so that no assertion depends on when the test runs.
import { afterAll, describe, expect, it } from 'vitest';
import { Admin } from '../../src/api/admin.js';
import { lateness, OVERDUE_AFTER_MS, overdueWarning } from '../../src/scheduler/overdue.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import { rubyDelayedPush } from './delayed-helpers.js';

const T = 1_900_000_000_000; // a whole second, in ms, far in the future
const S = T / 1000;
const redis = rawRedis();
const admins: Admin[] = [];
afterAll(async () => {
  await Promise.all(admins.map((admin) => admin.close()));
  redis.disconnect();
});

function adminFor(namespace: string): Admin {
  const admin = new Admin({ redis: sharedRedisUrl(), namespace });
  admins.push(admin);
  return admin;
}

const rubyItem = (n: number) => `{"class":"Late","args":[${n}],"queue":"q"}`;

describe('the delayed backlog', () => {
  it('is empty and not overdue with nothing delayed', async () => {
    const backlog = await adminFor(uniqueNamespace('overdue-none')).delayedBacklog(T);
    expect(backlog).toEqual({
      nowMs: T,
      earliestDueMs: undefined,
      lateMs: 0,
      overdue: false,
      overdueSeconds: 0,
      overdueJobs: 0,
      overdueJobsExact: true,
    });
    expect(overdueWarning(backlog)).toBeUndefined();
  });

  it('is overdue past the threshold, not at it, and counts the jobs of the overdue seconds', async () => {
    const namespace = uniqueNamespace('overdue-count');
    const admin = adminFor(namespace);
    await admin.resque.enqueueAtTo('q', T + 500, 'Late', 0); // filed under S + 1, due at its millisecond
    for (let n = 1; n <= 3; n++) await rubyDelayedPush(redis, namespace, S + 5, rubyItem(n));

    const atThreshold = await admin.delayedBacklog(T + 500 + OVERDUE_AFTER_MS);
    expect(atThreshold).toMatchObject({ earliestDueMs: T + 500, lateMs: OVERDUE_AFTER_MS, overdue: false });
    expect(atThreshold.overdueJobs).toBe(0);

    const justPast = await admin.delayedBacklog(T + 501 + OVERDUE_AFTER_MS);
    expect(justPast).toMatchObject({
      overdue: true,
      lateMs: OVERDUE_AFTER_MS + 1,
      overdueSeconds: 1,
      overdueJobs: 1,
      overdueJobsExact: true,
    });
    expect(overdueWarning(justPast)).toBe(
      '1 delayed job is overdue: the earliest was due 2030-03-17T17:46:40.500Z (1 min ago) and no process is ' +
        'promoting delayed jobs; run `resque work` (it promotes delayed jobs unless promoteDelayed is off) or ' +
        '`resque scheduler`',
    );

    const later = await admin.delayedBacklog(T + 10 * 60_000);
    expect(later).toMatchObject({ overdue: true, overdueSeconds: 2, overdueJobs: 4, overdueJobsExact: true });
    expect(overdueWarning(later)).toMatch(/^4 delayed jobs are overdue: .* \(9 min ago\)/);
  });

  it('counts the jobs of the first 100 overdue seconds and says "at least" beyond them', async () => {
    const namespace = uniqueNamespace('overdue-many');
    const pipeline = redis.pipeline();
    const admin = adminFor(namespace);
    const keys = admin.resque.keys;
    for (let i = 0; i < 150; i++) {
      pipeline.rpush(keys.delayedAt(S + i), rubyItem(i), rubyItem(i + 1000));
      pipeline.zadd(keys.delayedSchedule, S + i, S + i);
    }
    await pipeline.exec();
    const backlog = await admin.delayedBacklog(T + 3 * 3_600_000);
    expect(backlog).toMatchObject({ overdueSeconds: 150, overdueJobs: 200, overdueJobsExact: false });
    expect(overdueWarning(backlog)).toMatch(/^at least 200 delayed jobs are overdue: .* \(3 h ago\)/);
  });

  it('is decided by the Redis clock when no time is given', async () => {
    const namespace = uniqueNamespace('overdue-redis-time');
    const [seconds] = await redis.time();
    await rubyDelayedPush(redis, namespace, Number(seconds) - 3600, rubyItem(1));
    await rubyDelayedPush(redis, namespace, Number(seconds) + 3600, rubyItem(2));
    const backlog = await adminFor(namespace).delayedBacklog();
    expect(backlog).toMatchObject({ overdue: true, overdueSeconds: 1, overdueJobs: 1 });
    expect(backlog.lateMs).toBeGreaterThanOrEqual(3_600_000);
  });
});

describe('lateness', () => {
  it('reads at a glance', () => {
    expect(
      [59_999, 60_000, 119 * 60_000, 120 * 60_000, 47 * 3_600_000, 49 * 3_600_000].map(lateness),
    ).toEqual(['59 s', '1 min', '119 min', '2 h', '47 h', '2 days']);
  });
});
