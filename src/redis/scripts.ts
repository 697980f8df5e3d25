import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ChainableCommander, Redis } from 'ioredis';

/** The `.lua` files in ./lua, by name. Versioned names let two releases share a Redis without clobbering. */
export type ScriptName =
  | 'enqueue'
  | 'reserve'
  | 'return_job'
  | 'remove_at'
  | 'failure_retry'
  | 'failure_group';

interface LoadedScript {
  source: string;
  sha: string;
}

const cache = new Map<ScriptName, LoadedScript>();

function load(name: ScriptName): LoadedScript {
  let script = cache.get(name);
  if (!script) {
    const source = readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8');
    script = { source, sha: createHash('sha1').update(source).digest('hex') };
    cache.set(name, script);
  }
  return script;
}

type Arg = string | number | Buffer;

/** Runs a script by SHA; on NOSCRIPT (a restarted or flushed Redis) sends the source once, which caches it again. */
export async function runScript<T>(
  redis: Redis,
  name: ScriptName,
  keys: readonly string[],
  args: readonly Arg[],
): Promise<T> {
  const script = load(name);
  try {
    return (await redis.evalsha(script.sha, keys.length, ...keys, ...args)) as T;
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return (await redis.eval(script.source, keys.length, ...keys, ...args)) as T;
  }
}

/** Queues the script on a pipeline as EVAL: a pipeline cannot retry one command on NOSCRIPT. */
export function pipelineScript(
  pipeline: ChainableCommander,
  name: ScriptName,
  keys: readonly string[],
  args: readonly Arg[],
): ChainableCommander {
  const script = load(name);
  return pipeline.eval(script.source, keys.length, ...keys, ...args);
}
