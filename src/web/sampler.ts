import type { Admin } from '../api/admin.js';

/**
 * Writes the stats samples the charts are drawn from, every `intervalMs` while the dashboard runs (see
 * src/api/stats.ts: several dashboards share the work, one sample per period). Errors (Redis down) are ignored:
 * the next tick tries again, and the charts show the gap.
 */
export class Sampler {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly admin: Admin,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    if (this.intervalMs <= 0 || this.timer) return;
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.admin.sampleStats();
    } catch {
      // Redis unreachable: try again next period.
    } finally {
      this.running = false;
    }
  }
}
