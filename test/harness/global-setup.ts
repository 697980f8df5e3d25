import type { TestProject } from 'vitest/node';
import { removeDir, startRedis } from './redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

/** One shared redis-server for the run; tests isolate themselves by namespace. Tests that break Redis start their own. */
export default async function setup(project: TestProject) {
  const server = await startRedis();
  project.provide('redisUrl', server.url);
  return async () => {
    await server.stop();
    removeDir(server.dir);
  };
}
