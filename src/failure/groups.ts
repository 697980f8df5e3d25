import type { ChainableCommander, Redis } from 'ioredis';
import type { Keys } from '../protocol/keys.js';
import { pipelineScript, SCRIPTS, type ScriptCall } from '../redis/scripts.js';
import { type GroupSignature, groupId } from './grouping.js';

/**
 * Error groups in Redis: updated by a Lua script queued with every failure write (never by scanning), read back
 * O(groups). Bounded: at most `maxGroups` groups, each remembering at most `maxMembers` queues and classes.
 */
export interface GroupLimits {
  /** Groups kept; the least recently seen are evicted. Default 1000. */
  maxGroups: number;
  /** Queues and classes remembered per group. Default 50. */
  maxMembers: number;
}

export const DEFAULT_GROUP_LIMITS: GroupLimits = Object.freeze({ maxGroups: 1000, maxMembers: 50 });

const SAMPLE_MAX = 500;

export interface ErrorGroup {
  id: string;
  className: string;
  exception: string;
  /** Normalised message (numbers, ids and quoted values masked). */
  message: string;
  /** Top application frame, `path:line`. */
  frame: string;
  /** Failures counted since the group was first seen (removing failures does not decrease it). */
  count: number;
  firstSeen: Date;
  lastSeen: Date;
  /** The release (`config.release`) of the process that wrote the group's first failure. */
  firstRelease: string;
  lastRelease: string;
  queues: string[];
  classes: string[];
  /** The latest failure's error message, as written. */
  sampleError: string;
}

export interface GroupedFailure {
  signature: GroupSignature;
  queue: string;
  error: string;
  at: Date;
}

/** Queues the group update of one failure on a pipeline (the failure's own RPUSH goes in the same pipeline). */
export function queueGroupUpdate(
  pipeline: ChainableCommander,
  keys: Keys,
  failure: GroupedFailure,
  release: string,
  limits: GroupLimits = DEFAULT_GROUP_LIMITS,
): ChainableCommander {
  const call = groupUpdateCall(keys, failure, release, limits);
  return pipelineScript(pipeline, call.script, call.keys, call.args);
}

/** The group update of one failure as a script call, for writers that send it with calls of their own. */
export function groupUpdateCall(
  keys: Keys,
  failure: GroupedFailure,
  release: string,
  limits: GroupLimits = DEFAULT_GROUP_LIMITS,
): ScriptCall {
  const { signature } = failure;
  return {
    script: SCRIPTS.failureGroup,
    keys: [keys.failureGroups, keys.failureGroupDetails],
    args: [
      groupId(signature),
      failure.at.getTime(),
      release,
      failure.queue,
      signature.className,
      signature.exception,
      signature.message,
      signature.frame,
      failure.error.slice(0, SAMPLE_MAX),
      limits.maxGroups,
      limits.maxMembers,
    ],
  };
}

export type GroupOrder = 'recent' | 'count';

/** Groups, most recently seen first (or most frequent first), at most `limit`. */
export async function readGroups(
  redis: Redis,
  keys: Keys,
  options: { order?: GroupOrder; limit?: number } = {},
): Promise<ErrorGroup[]> {
  const order = options.order ?? 'recent';
  const limit = options.limit ?? DEFAULT_GROUP_LIMITS.maxGroups;
  const ids =
    order === 'recent'
      ? await redis.zrevrange(keys.failureGroups, 0, limit - 1)
      : await redis.zrevrange(keys.failureGroups, 0, -1);
  const groups = await readGroupDetails(redis, keys, ids);
  if (order === 'count')
    groups.sort((a, b) => b.count - a.count || b.lastSeen.getTime() - a.lastSeen.getTime());
  return groups.slice(0, limit);
}

export async function readGroup(redis: Redis, keys: Keys, id: string): Promise<ErrorGroup | undefined> {
  const [group] = await readGroupDetails(redis, keys, [id]);
  return group;
}

async function readGroupDetails(redis: Redis, keys: Keys, ids: string[]): Promise<ErrorGroup[]> {
  if (ids.length === 0) return [];
  const details = await redis.hmget(keys.failureGroupDetails, ...ids);
  return details.flatMap((json) => {
    const group = json ? decodeGroup(json) : undefined;
    return group ? [group] : [];
  });
}

function decodeGroup(json: string): ErrorGroup | undefined {
  try {
    const value = JSON.parse(json) as Record<string, unknown>;
    const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);
    return {
      id: String(value['id']),
      className: String(value['class'] ?? ''),
      exception: String(value['exception'] ?? ''),
      message: String(value['message'] ?? ''),
      frame: String(value['frame'] ?? ''),
      count: Number(value['count'] ?? 0),
      firstSeen: new Date(Number(value['firstSeenMs'] ?? 0)),
      lastSeen: new Date(Number(value['lastSeenMs'] ?? 0)),
      firstRelease: String(value['firstRelease'] ?? ''),
      lastRelease: String(value['lastRelease'] ?? ''),
      queues: list(value['queues']),
      classes: list(value['classes']),
      sampleError: String(value['sampleError'] ?? ''),
    };
  } catch {
    return undefined;
  }
}
