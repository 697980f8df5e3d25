import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Keys } from '../protocol/keys.js';
import { isoUtc } from '../protocol/time.js';
import { runScript } from '../redis/scripts.js';
import { TOKEN_LENGTH } from '../registry/inflight.js';
import type { ReservedJob } from './executor.js';

/** A finished job to acknowledge. */
export interface Ack {
  slotId: string;
  token: string;
  failed: boolean;
}

export interface CycleReply {
  /** `pause-all-workers` is set: nothing was reserved. */
  paused: boolean;
  jobs: ReservedJob[];
}

/**
 * The fetch side of a worker: one `reserve.lua` call acknowledges finished jobs and fills free slots, so the
 * steady state costs one round trip per batch of jobs, however many slots turn over at once.
 */
export class Reserver {
  private readonly tokenPrefix = randomBytes(4).toString('hex');
  private tokenCounter = 0;
  private readonly queueJson = new Map<string, string>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /** A token no other reservation of this worker uses. */
  nextToken(): string {
    this.tokenCounter = (this.tokenCounter + 1) % 0xffffffff;
    return (this.tokenPrefix + this.tokenCounter.toString(16).padStart(8, '0')).slice(0, TOKEN_LENGTH);
  }

  async cycle(
    acks: readonly Ack[],
    freeSlots: readonly string[],
    queues: readonly string[],
  ): Promise<CycleReply> {
    const args: Array<string | number> = [this.keys.prefix, isoUtc(new Date()), acks.length];
    for (const ack of acks) args.push(ack.slotId, ack.token, ack.failed ? '1' : '0');
    const slots = queues.length > 0 ? freeSlots : [];
    args.push(slots.length);
    for (const slot of slots) args.push(slot, this.nextToken());
    args.push(queues.length);
    for (const queue of queues) args.push(queue, this.jsonName(queue));
    const reply = await runScript<Array<number | string>>(this.redis, 'reserve', [this.keys.pauseAll], args);
    const jobs: ReservedJob[] = [];
    for (let i = 1; i + 3 < reply.length; i += 4) {
      jobs.push({
        slotId: String(reply[i]),
        token: String(reply[i + 1]),
        queue: String(reply[i + 2]),
        raw: String(reply[i + 3]),
      });
    }
    return { paused: reply[0] === 1, jobs };
  }

  private jsonName(queue: string): string {
    let json = this.queueJson.get(queue);
    if (json === undefined) {
      json = JSON.stringify(queue);
      this.queueJson.set(queue, json);
    }
    return json;
  }
}
