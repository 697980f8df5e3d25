import type { TestProject } from 'vitest/node';
import { startRedisCluster } from './cluster.js';
import { removeDir, startRedis } from './redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

/**
 * One shared redis-server for the run; tests isolate themselves by namespace. Tests that break Redis start their own.
 * With RESQUE_TEST_CLUSTER=1 the shared Redis is a 3-primary Redis Cluster instead (test/harness/cluster.ts), and the
 * tests' namespaces carry the hash tag `{resque-test}` (./context.ts): the suite's cluster configuration.
 */
export default async function setup(project: TestProject) {
  if (process.env['RESQUE_TEST_CLUSTER'] === '1') {
    const cluster = await startRedisCluster();
    project.provide('redisUrl', cluster.url);
    return () => cluster.stop();
  }
  const server = await startRedis();
  project.provide('redisUrl', server.url);
  return async () => {
    await server.stop();
    removeDir(server.dir);
  };
}
