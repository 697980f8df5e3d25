// Weighted mode between the queues of a worker's list (docs/flow-control.md, Weighted queues): `critical:5,default:1`.
// Resque's strict order (the first queue with jobs always wins) stays the default; weights are opt-in per list.
import { ConfigError } from '../errors/index.js';

/** The largest weight an entry may have. */
export const MAX_QUEUE_WEIGHT = 1000;

/**
 * Splits `name:N` entries of a queue list into the plain list and the weights by entry. A queue name or pattern
 * cannot contain ":" (protocol/names.ts), so the suffix never clashes with a name. An empty map: no entry has a
 * weight, the list keeps Resque's strict order. Entries without a weight in a weighted list weigh 1.
 */
export function splitQueueWeights(list: readonly string[]): {
  queues: string[];
  weights: Map<string, number>;
} {
  const queues: string[] = [];
  const weights = new Map<string, number>();
  for (const raw of list) {
    const entry = raw.trim();
    const colon = entry.lastIndexOf(':');
    if (colon < 0) {
      queues.push(raw);
      continue;
    }
    const name = entry.slice(0, colon).trim();
    const weight = entry.slice(colon + 1).trim();
    if (name === '' || name.includes(':') || !/^\d+$/.test(weight))
      throw new ConfigError(
        'queues',
        `expected <queue>:<weight> with a whole number, got ${JSON.stringify(entry)}`,
      );
    if (name.startsWith('!'))
      throw new ConfigError('queues', `an exclusion takes no weight, got ${JSON.stringify(entry)}`);
    const n = Number(weight);
    if (n < 1 || n > MAX_QUEUE_WEIGHT)
      throw new ConfigError(
        'queues',
        `a queue's weight must be 1 to ${MAX_QUEUE_WEIGHT}, got ${JSON.stringify(entry)}`,
      );
    if (weights.has(name)) throw new ConfigError('queues', `${JSON.stringify(name)} is weighed twice`);
    weights.set(name, n);
    queues.push(name);
  }
  return { queues, weights };
}

/**
 * Which entry of a weighted list goes first in each reservation call: smooth weighted round-robin, so over a cycle of
 * calls each entry is first as many times as its weight, spread out (5:1 gives five, one, five…, not bursts).
 */
export class WeightedTurns {
  private readonly current: number[];
  private readonly total: number;

  constructor(private readonly weights: readonly number[]) {
    this.current = weights.map(() => 0);
    this.total = weights.reduce((sum, w) => sum + w, 0);
  }

  /** The index of the entry that goes first in the next call. */
  next(): number {
    let best = 0;
    for (let i = 0; i < this.weights.length; i++) {
      this.current[i]! += this.weights[i]!;
      if (this.current[i]! > this.current[best]!) best = i;
    }
    this.current[best]! -= this.total;
    return best;
  }
}
