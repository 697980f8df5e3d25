import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * The suite's cluster configuration (`RESQUE_TEST_CLUSTER=1 vitest run --config vitest.cluster.config.ts`, part of
 * `npm test`): the shared Redis is a 3-primary Redis Cluster and every test namespace carries the hash tag
 * `{resque-test}` (test/harness). A subset, about a minute on 2 cores: the client, workers, retries, failures, job
 * status, unique jobs, the reaper, limits, cancel, delayed jobs and the scheduler, and the dashboard's pages and actions.
 * Not here: files that stop, kill or freeze a single server, or whose fixture jobs open plain connections of their own
 * (the supervised children's fixtures); tests that read one server's connections (MONITOR, PUBSUB NUMSUB) skip
 * themselves there (`onCluster`). test/cluster/ covers supervised workers on a cluster.
 */
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: [
        'test/integration/client.test.ts',
        'test/integration/worker-basics.test.ts',
        'test/integration/worker-retries.test.ts',
        'test/integration/failures-store.test.ts',
        'test/integration/failure-groups.test.ts',
        'test/integration/job-status.test.ts',
        'test/integration/unique-jobs.test.ts',
        'test/integration/reaper.test.ts',
        'test/integration/concurrency-limits.test.ts',
        'test/integration/cancel.test.ts',
        'test/scheduler/delayed-api.test.ts',
        'test/scheduler/delayed-enqueue.test.ts',
        'test/scheduler/scheduler.test.ts',
        'test/scheduler/promotion.test.ts',
        'test/scheduler/worker-promotes.test.ts',
        'test/web/pages.test.ts',
        'test/web/actions.test.ts',
        'test/web/scheduling-api.test.ts',
        'test/web/stats.test.ts',
        'test/web/retries.test.ts',
    ],
  },
});
