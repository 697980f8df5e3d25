// What a worker's /livez and /readyz answer. Live: its event loop turns and, while it is connected to Redis, its
// liveness beat reaches Redis (a worker whose beat stops is taken for dead by its peers). Ready: running, connected to
// Redis, beating. A Redis outage makes a worker unready but not dead: restarting it would not bring Redis back.
import type { LifeState } from '../worker/upkeep.js';

/** What the probes read from the worker. */
export interface HealthSource {
  state(): LifeState;
  /** The worker's Redis connection is up. */
  redisReady(): boolean;
}

export interface HealthSettings {
  /** A beat older than this makes peers take the worker for dead; so does an event-loop stall as long. */
  livenessTimeoutMs: number;
  /** How often the event loop is sampled. Default 500 ms. */
  sampleIntervalMs?: number;
}

export interface ProbeCheck {
  readonly name: 'state' | 'redis' | 'event-loop' | 'liveness-beat';
  readonly ok: boolean;
  readonly detail: string;
}

export interface ProbeResult {
  readonly ok: boolean;
  readonly checks: readonly ProbeCheck[];
}

/** Epoch ms; tests pass their own and drive `sample()` themselves. */
export type WallClock = () => number;

export class HealthMonitor {
  private lastBeatAt: number | undefined;
  private startedAt: number;
  private expectedSampleAt: number | undefined;
  /** The longest event-loop stall seen since the last liveness probe. */
  private worstStallMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly sampleIntervalMs: number;

  constructor(
    private readonly source: HealthSource,
    private readonly settings: HealthSettings,
    private readonly now: WallClock = Date.now,
  ) {
    this.sampleIntervalMs = settings.sampleIntervalMs ?? 500;
    this.startedAt = now();
  }

  /** Samples the event loop on a timer (which does not keep the process alive). */
  start(): void {
    this.startedAt = this.now();
    this.expectedSampleAt = this.startedAt + this.sampleIntervalMs;
    this.timer = setInterval(() => this.sample(), this.sampleIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One sample: how late it runs is how long the event loop was stalled. */
  sample(): void {
    const now = this.now();
    if (this.expectedSampleAt !== undefined)
      this.worstStallMs = Math.max(this.worstStallMs, now - this.expectedSampleAt);
    this.expectedSampleAt = now + this.sampleIntervalMs;
  }

  /** The liveness beat reached Redis. */
  beat(): void {
    this.lastBeatAt = this.now();
  }

  liveness(): ProbeResult {
    const stall = this.worstStallMs;
    this.worstStallMs = 0;
    const { livenessTimeoutMs } = this.settings;
    const checks: ProbeCheck[] = [
      stall > livenessTimeoutMs
        ? { name: 'event-loop', ok: false, detail: `stalled for ${stall} ms since the last probe` }
        : { name: 'event-loop', ok: true, detail: `longest stall ${stall} ms` },
    ];
    const state = this.source.state();
    if (state === 'running' || state === 'stopping') {
      const beat = this.beatCheck();
      checks.push(
        beat.ok || this.source.redisReady()
          ? beat
          : {
              ...beat,
              ok: true,
              detail: `${beat.detail}; Redis is unreachable, which a restart would not mend`,
            },
      );
    }
    return result(checks);
  }

  readiness(): ProbeResult {
    const state = this.source.state();
    const checks: ProbeCheck[] = [
      { name: 'state', ok: state === 'running', detail: STATE_DETAIL[state] },
      this.source.redisReady()
        ? { name: 'redis', ok: true, detail: 'connected' }
        : { name: 'redis', ok: false, detail: 'not connected; reconnecting' },
    ];
    if (state === 'running') checks.push(this.beatCheck());
    return result(checks);
  }

  private beatCheck(): ProbeCheck {
    const since = this.lastBeatAt ?? this.startedAt;
    const ageMs = Math.max(0, this.now() - since);
    const what = this.lastBeatAt === undefined ? 'no beat yet, started' : 'last beat';
    return ageMs > this.settings.livenessTimeoutMs
      ? { name: 'liveness-beat', ok: false, detail: `${what} ${ageMs} ms ago: peers take it for dead` }
      : { name: 'liveness-beat', ok: true, detail: `${what} ${ageMs} ms ago` };
  }
}

const STATE_DETAIL: Record<LifeState, string> = {
  new: 'not started',
  starting: 'starting',
  running: 'running',
  stopping: 'shutting down',
  stopped: 'stopped',
};

function result(checks: ProbeCheck[]): ProbeResult {
  return { ok: checks.every((check) => check.ok), checks };
}
