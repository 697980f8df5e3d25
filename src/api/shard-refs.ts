/**
 * References the admin model hands out on a sharded namespace carry their shard: `<shard>@<ref>`, e.g. the failure
 * `2@failed:0:3f2a9c1b07` or the retry `1@eyJjbGFzcyI6…`. Unsharded references stay as they are.
 */

/** `ref` of shard `shard`. */
export function shardRef(shard: number, ref: string): string {
  return `${shard}@${ref}`;
}

/** The shard and the shard's own reference, or undefined when `text` names no shard of `count`. */
export function parseShardRef(text: string, count: number): { shard: number; ref: string } | undefined {
  const match = /^(\d{1,4})@(.+)$/s.exec(text);
  if (!match) return undefined;
  const shard = Number(match[1]);
  if (shard >= count) return undefined;
  return { shard, ref: match[2]! };
}
