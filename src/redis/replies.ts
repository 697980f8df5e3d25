import type { Redis } from 'ioredis';

/** Results of a pipeline or transaction, throwing the first command error. */
export function pipelineValues(results: Array<[Error | null, unknown]> | null): unknown[] {
  if (!results) throw new Error('Redis pipeline was discarded');
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

/** A TIME reply as epoch ms (this machine's clock if the reply is missing). */
export function timeReplyMs(time: unknown): number {
  const [seconds, micros] = (time as [string, string] | undefined) ?? [];
  return seconds === undefined ? Date.now() : Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

/** Current time on the Redis server: heartbeats and ages are judged by one clock, as Ruby does. */
export async function redisTime(redis: Redis): Promise<Date> {
  return new Date(timeReplyMs(await redis.time()));
}
