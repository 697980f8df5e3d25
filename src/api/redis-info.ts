import type { AdminContext } from './context.js';

/** Redis `INFO`, as resque-web's Stats → Redis tab shows it: sections of name/value pairs, in server order. */
export interface RedisInfoSection {
  name: string;
  entries: Array<[string, string]>;
}

export async function redisInfo(ctx: AdminContext): Promise<RedisInfoSection[]> {
  return parseInfo(await ctx.redis.info());
}

/** Parses INFO's `# Section` headers and `key:value` lines. */
export function parseInfo(text: string): RedisInfoSection[] {
  const sections: RedisInfoSection[] = [];
  let current: RedisInfoSection | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('# ')) {
      current = { name: line.slice(2).trim(), entries: [] };
      sections.push(current);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    if (!current) {
      current = { name: 'Server', entries: [] };
      sections.push(current);
    }
    current.entries.push([line.slice(0, colon), line.slice(colon + 1)]);
  }
  return sections;
}

/** One line for a footer: version, mode, memory, uptime. */
export function redisSummary(sections: readonly RedisInfoSection[]): Record<string, string> {
  const all = new Map(sections.flatMap((s) => s.entries));
  const pick = (key: string) => all.get(key) ?? '';
  return {
    version: pick('redis_version'),
    mode: pick('redis_mode'),
    usedMemory: pick('used_memory_human'),
    uptimeSeconds: pick('uptime_in_seconds'),
    connectedClients: pick('connected_clients'),
  };
}
