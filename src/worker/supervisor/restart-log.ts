import type { RestartReason, RestartRecord } from '../../fleet/worker-stats.js';

const RECENT = 20;

/** The restarts of a supervised worker's children: totals, by reason, by position, and the latest few. */
export class RestartLog {
  private total = 0;
  private readonly reasons: Partial<Record<RestartReason, number>> = {};
  private readonly byIndex = new Map<number | null, { count: number; last: RestartRecord }>();
  private readonly recent: RestartRecord[] = [];

  record(record: RestartRecord): void {
    this.total++;
    this.reasons[record.reason] = (this.reasons[record.reason] ?? 0) + 1;
    this.byIndex.set(record.index, { count: (this.byIndex.get(record.index)?.count ?? 0) + 1, last: record });
    this.recent.push(record);
    if (this.recent.length > RECENT) this.recent.shift();
  }

  countAt(index: number | null): number {
    return this.byIndex.get(index)?.count ?? 0;
  }

  lastAt(index: number | null): RestartRecord | null {
    return this.byIndex.get(index)?.last ?? null;
  }

  summary() {
    return { restarts: this.total, restartReasons: { ...this.reasons }, recentRestarts: [...this.recent] };
  }
}
