// How the admin model adds up a sharded namespace's shards (docs/cluster.md, Shards → Dashboard and CLI): references
// carrying their shard, INFO once per server, the delayed backlog and liveness of all shards.
import { describe, expect, it } from 'vitest';
import { infoByNode, mergeBacklog, mergeLiveness } from '../../src/api/shard-merge.js';
import { parseShardRef, shardRef } from '../../src/api/shard-refs.js';

describe('shard references', () => {
  it('carry their shard and give back the shard’s own reference', () => {
    expect(shardRef(2, 'failed:0:3f2a9c1b07')).toBe('2@failed:0:3f2a9c1b07');
    expect(parseShardRef('2@failed:0:3f2a9c1b07', 3)).toEqual({ shard: 2, ref: 'failed:0:3f2a9c1b07' });
    expect(parseShardRef('1@a@b', 3)).toEqual({ shard: 1, ref: 'a@b' });
  });

  it('name no shard when the prefix is missing or out of range', () => {
    expect(parseShardRef('failed:0:3f2a9c1b07', 3)).toBeUndefined();
    expect(parseShardRef('3@failed:0:3f2a9c1b07', 3)).toBeUndefined();
    expect(parseShardRef('1@', 3)).toBeUndefined();
    expect(parseShardRef('x1@ref', 3)).toBeUndefined();
  });
});

describe('merging the shards’ reads', () => {
  const info = (runId: string, port: string) => [
    {
      name: 'Server',
      entries: [['run_id', runId] as [string, string], ['tcp_port', port] as [string, string]],
    },
    { name: 'Memory', entries: [['used_memory', '1'] as [string, string]] },
  ];

  it('shows INFO once per server: as it is for one, per node with its shards for several', () => {
    expect(infoByNode([info('a', '1'), info('a', '1')])).toEqual(info('a', '1'));
    const names = infoByNode([info('a', '1'), info('b', '2'), info('a', '1')]).map((s) => s.name);
    expect(names).toEqual([
      'Server · shards 0, 2',
      'Memory · shards 0, 2',
      'Server · shard 1',
      'Memory · shard 1',
    ]);
  });

  it('takes the earliest delayed job of all shards and adds up the overdue ones', () => {
    const backlog = mergeBacklog([
      {
        nowMs: 10,
        earliestDueMs: undefined,
        lateMs: 0,
        overdue: false,
        overdueSeconds: 0,
        overdueJobs: 0,
        overdueJobsExact: true,
      },
      {
        nowMs: 10,
        earliestDueMs: 5,
        lateMs: 5,
        overdue: true,
        overdueSeconds: 2,
        overdueJobs: 3,
        overdueJobsExact: true,
      },
      {
        nowMs: 10,
        earliestDueMs: 7,
        lateMs: 3,
        overdue: true,
        overdueSeconds: 1,
        overdueJobs: 4,
        overdueJobsExact: false,
      },
    ]);
    expect(backlog).toEqual({
      nowMs: 10,
      earliestDueMs: 5,
      lateMs: 5,
      overdue: true,
      overdueSeconds: 3,
      overdueJobs: 7,
      overdueJobsExact: false,
    });
  });

  it('counts a worker registered on two shards once, dead if dead on either', () => {
    const entry = (id: string, alive: boolean) => ({
      id,
      rule: 'heartbeat' as const,
      ageMs: 1,
      timeoutMs: 10,
      alive,
    });
    const merged = mergeLiveness([[entry('w:1', true), entry('w:2', true)], [entry('w:1', false)]]);
    expect(merged.map((w) => [w.id, w.alive])).toEqual([
      ['w:1', false],
      ['w:2', true],
    ]);
  });
});
