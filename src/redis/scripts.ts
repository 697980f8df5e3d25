import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ChainableCommander, Redis } from 'ioredis';

/**
 * A `.lua` file run by SHA. Redis caches scripts by SHA, so two releases whose scripts differ never clobber each
 * other's, and each module declares the scripts it owns beside its code.
 */
export interface LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

/** Declares a script; the file is read the first time the script runs. */
export function defineScript(file: URL): LuaScript {
  let loaded: { source: string; sha: string } | undefined;
  const load = () => {
    if (!loaded) {
      const source = withIncludes(readFileSync(file, 'utf8'), file);
      loaded = { source, sha: createHash('sha1').update(source).digest('hex') };
    }
    return loaded;
  };
  return {
    name: file.pathname.slice(file.pathname.lastIndexOf('/') + 1),
    get source() {
      return load().source;
    },
    get sha() {
      return load().sha;
    },
  };
}

/**
 * Redis runs one self-contained script per call, so Lua shared by several scripts (./lua/announce.lua, ./lua/wake.lua) is pasted in
 * where a script says `-- #include <path relative to it>`; an included file may include others.
 */
function withIncludes(source: string, file: URL): string {
  return source.replace(/^-- #include (\S+)$/gm, (_line, path: string) => {
    const included = new URL(path, file);
    return withIncludes(readFileSync(included, 'utf8'), included);
  });
}

/**
 * The script with Lua constants defined ahead of its text (`local NAME = "value"`, or `local NAME = { "a", "b" }` for
 * a list): a value that is the same on every call of a client (a namespace's key spec) then reaches Redis once, with
 * the script, instead of with every call, and a list is a ready table rather than text the script splits on every
 * call. Each set of values makes a script of its own, with its own SHA.
 */
export function withConstants(
  script: LuaScript,
  constants: Readonly<Record<string, string | readonly string[]>>,
): LuaScript {
  let loaded: { source: string; sha: string } | undefined;
  const load = () => {
    if (!loaded) {
      const prelude = Object.entries(constants)
        .map(([name, value]) => `local ${name} = ${luaValue(name, value)}\n`)
        .join('');
      const source = prelude + script.source;
      loaded = { source, sha: createHash('sha1').update(source).digest('hex') };
    }
    return loaded;
  };
  return {
    name: script.name,
    get source() {
      return load().source;
    },
    get sha() {
      return load().sha;
    },
  };
}

function luaValue(name: string, value: string | readonly string[]): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`Not a Lua name: ${JSON.stringify(name)}`);
  return typeof value === 'string' ? luaString(value) : `{ ${value.map(luaString).join(', ')} }`;
}

/** A Lua string literal of `value`'s UTF-8 bytes: plain characters as they are, any other byte as `\ddd`. */
function luaString(value: string): string {
  let literal = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const plain = byte >= 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x5c;
    literal += plain ? String.fromCharCode(byte) : `\\${String(byte).padStart(3, '0')}`;
  }
  return `"${literal}"`;
}

/** Scripts shared by several modules, in ./lua. */
export const SCRIPTS = {
  enqueueTenant: defineScript(new URL('./lua/enqueue_tenant.lua', import.meta.url)),
  enqueueUnique: defineScript(new URL('./lua/enqueue_unique.lua', import.meta.url)),
  dropTenants: defineScript(new URL('./lua/drop_tenants.lua', import.meta.url)),
  announce: defineScript(new URL('./lua/announce_queues.lua', import.meta.url)),
  indexQueues: defineScript(new URL('./lua/index_queues.lua', import.meta.url)),
  removeAt: defineScript(new URL('./lua/remove_at.lua', import.meta.url)),
  failureRetry: defineScript(new URL('./lua/failure_retry.lua', import.meta.url)),
  failureGroup: defineScript(new URL('./lua/failure_group.lua', import.meta.url)),
} as const;

type Arg = string | number | Buffer;

/*
 * Redis Cluster (docs/cluster.md): every call names at least one key, so the cluster client sends it to the primary
 * that serves the namespace's slot (a call without keys would go to a random primary). Many scripts also touch keys
 * they do not declare, built from a prefix or a spec passed in ARGV; Redis 7 allows that only for keys that are local
 * to the node running the script. In one-slot cluster mode every key of the namespace carries its hash tag, so they
 * are: all of them live in the slot of the declared keys. While that slot is being moved to another primary such a
 * script can fail midway ("non local key"); see docs/cluster.md, Moving the slot.
 */

/** Runs a script by SHA; on NOSCRIPT (a restarted or flushed Redis) sends the source once, which caches it again. */
export async function runScript<T>(
  redis: Redis,
  script: LuaScript,
  keys: readonly string[],
  args: readonly Arg[],
): Promise<T> {
  try {
    return (await redis.evalsha(script.sha, keys.length, ...keys, ...args)) as T;
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return (await redis.eval(script.source, keys.length, ...keys, ...args)) as T;
  }
}

export interface ScriptCall {
  script: LuaScript;
  keys: readonly string[];
  args: readonly Arg[];
}

/**
 * Several script calls in one round trip, by SHA. A call that meets NOSCRIPT (a restarted or flushed Redis) did not
 * run, so it alone is sent again with its source; calls are independent, not atomic together. Throws the first other
 * error once every call has been answered.
 */
export async function runScripts(redis: Redis, calls: readonly ScriptCall[]): Promise<unknown[]> {
  const pipeline = redis.pipeline();
  for (const { script, keys, args } of calls) pipeline.evalsha(script.sha, keys.length, ...keys, ...args);
  const results = (await pipeline.exec()) ?? [];
  const values: unknown[] = [];
  let failure: Error | undefined;
  for (const [i, call] of calls.entries()) {
    const [error, value] = results[i] ?? [new Error('Redis pipeline was discarded'), undefined];
    if (error?.message.startsWith('NOSCRIPT'))
      values.push(await runScript(redis, call.script, call.keys, call.args));
    else if (error) failure ??= error;
    else values.push(value);
  }
  if (failure) throw failure;
  return values;
}

/** Queues the script on a pipeline as EVAL: a pipeline cannot retry one command on NOSCRIPT. */
export function pipelineScript(
  pipeline: ChainableCommander,
  script: LuaScript,
  keys: readonly string[],
  args: readonly Arg[],
): ChainableCommander {
  return pipeline.eval(script.source, keys.length, ...keys, ...args);
}

/**
 * Queues the script on a pipeline or MULTI by SHA when `bySha` (its caller resends with the source on NOSCRIPT),
 * else by source.
 */
export function queueScript(
  pipeline: ChainableCommander,
  script: LuaScript,
  keys: readonly string[],
  args: readonly Arg[],
  bySha: boolean,
): ChainableCommander {
  if (!bySha) return pipelineScript(pipeline, script, keys, args);
  return pipeline.evalsha(script.sha, keys.length, ...keys, ...args);
}
