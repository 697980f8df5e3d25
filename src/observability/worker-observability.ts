// Everything a worker shows of itself beside Redis: per-job log lines, the error reporter, Prometheus metrics and the
// health probes. The Worker creates it with its options; it listens to the worker's events and serves the ports.
import type { EventEmitter } from 'node:events';
import type { Registry } from 'prom-client';
import type { ResolvedConfig } from '../config/resolve.js';
import type { ExecutorStats } from '../fleet/worker-stats.js';
import type { Logger } from '../logging/logger.js';
import type { LifeState } from '../worker/upkeep.js';
import type { WorkerEvents } from '../worker/worker-events.js';
import { type ErrorReporter, errorReporting } from './error-reporter.js';
import { HealthMonitor, type ProbeResult } from './health.js';
import { type HttpAnswer, json, ProbeServer, type Routes } from './http.js';
import { jobLog } from './job-log.js';
import { JobObserver } from './job-observer.js';
import type { WorkerMetrics } from './metrics.js';

/** What the observability reads from its worker. */
export interface ObservedWorker {
  readonly events: EventEmitter<WorkerEvents>;
  readonly slots: number;
  state(): LifeState;
  redisReady(): boolean;
  busySlots(): number;
  paused(): boolean;
  executorStats(): ExecutorStats | undefined;
}

export interface ObservabilityOptions {
  config: Pick<ResolvedConfig, 'metricsPort' | 'healthPort' | 'listenHost' | 'livenessTimeoutMs'>;
  logger: Logger;
  errorReporter?: ErrorReporter;
  metricsRegistry?: Registry;
}

export class WorkerObservability {
  /** The worker's metrics, once started with metrics on (a port or a registry). */
  metrics: WorkerMetrics | undefined;
  /** The health probes, with `healthPort`. */
  readonly health: HealthMonitor | undefined;
  private readonly observer: JobObserver;
  private readonly servers: ProbeServer[] = [];

  constructor(
    private readonly worker: ObservedWorker,
    private readonly options: ObservabilityOptions,
  ) {
    const { logger, errorReporter, config } = options;
    this.observer = new JobObserver(worker.events, logger);
    this.observer.add(jobLog(logger));
    if (errorReporter) this.observer.add(errorReporting(errorReporter, logger));
    if (config.healthPort > 0) {
      const health = new HealthMonitor(worker, { livenessTimeoutMs: config.livenessTimeoutMs });
      worker.events.on('beat', () => health.beat());
      this.health = health;
    }
  }

  /** True when `start` has work to do: metrics to load, ports to open. */
  get needsStart(): boolean {
    const { config, metricsRegistry } = this.options;
    return config.metricsPort > 0 || config.healthPort > 0 || metricsRegistry !== undefined;
  }

  /** Loads the metrics and opens the ports; rejects (with nothing left open) when a port is taken. */
  async start(): Promise<void> {
    const { config, metricsRegistry } = this.options;
    if (config.metricsPort > 0 || metricsRegistry) {
      const { WorkerMetrics } = await import('./metrics.js');
      this.metrics = new WorkerMetrics(this.worker, { registry: metricsRegistry });
      this.observer.add(this.metrics);
    }
    this.health?.start();
    const byPort = new Map<number, Record<string, () => Promise<HttpAnswer> | HttpAnswer>>();
    const routesOn = (port: number) => byPort.get(port) ?? byPort.set(port, {}).get(port)!;
    const metrics = this.metrics;
    if (config.metricsPort > 0 && metrics) routesOn(config.metricsPort)['/metrics'] = () => scrape(metrics);
    const health = this.health;
    if (health) {
      routesOn(config.healthPort)['/livez'] = () => probe(health.liveness());
      routesOn(config.healthPort)['/readyz'] = () => probe(health.readiness());
    }
    try {
      for (const [port, routes] of byPort) await this.serve(port, routes, port === config.metricsPort);
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Closes the ports and stops watching; the job counters stay in an application's registry. */
  async stop(): Promise<void> {
    this.health?.stop();
    this.metrics?.close();
    this.observer.close();
    await Promise.all(this.servers.splice(0).map((server) => server.close()));
  }

  private async serve(port: number, routes: Routes, metrics: boolean): Promise<void> {
    const server = new ProbeServer(routes);
    this.servers.push(server);
    try {
      await server.listen(port, this.options.config.listenHost);
    } catch (error) {
      // The CLI names the port that could not be listened on, and the option that chose it.
      throw Object.assign(error as Error, { option: metrics ? '--metrics-port' : '--health-port' });
    }
  }
}

async function scrape(metrics: WorkerMetrics): Promise<HttpAnswer> {
  return {
    status: 200,
    contentType: metrics.registry.contentType,
    body: await metrics.registry.metrics(),
  };
}

function probe(result: ProbeResult): HttpAnswer {
  return result.ok ? json(200, result) : json(503, result);
}
