// Job counters and histograms kept as plain numbers on the job path and read by prom-client only when scraped.
// prom-client's own Counter and Histogram validate and hash the labels at every observation (a few microseconds a
// job); these look a series up once per label combination and then only add. They register on a prom-client registry
// and print as its counters and histograms do.
import type { Histogram, Registry } from 'prom-client';

type Labels = Readonly<Record<string, string | number>>;

/** What a prom-client registry reads from a metric: its `get()` answer. */
interface Exposition {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  values: Array<{ labels: Labels; value: number; metricName?: string }>;
}

interface Tallied {
  readonly name: string;
  get(): Promise<Exposition>;
  reset(): void;
}

/** Registers a tallied metric, or returns the one of that name another worker of this process registered. */
export function registerTallied<T extends Tallied>(registry: Registry, metric: T): T {
  const existing = registry.getSingleMetric(metric.name) as unknown;
  if (existing instanceof Object && existing.constructor === metric.constructor) return existing as T;
  // The registry reads a metric through get() alone; these are not prom-client classes, hence the cast.
  registry.registerMetric(metric as unknown as Histogram);
  return metric;
}

export class CounterSeries {
  value = 0;
  constructor(readonly labels: Labels) {}
}

export class TalliedCounter implements Tallied {
  readonly type = 'counter';
  readonly aggregator = 'sum';
  private readonly all = new Map<string, CounterSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  /** The series of a label combination (`key` names it), created on first use. */
  series(key: string, labels: () => Labels): CounterSeries {
    let series = this.all.get(key);
    if (!series) {
      series = new CounterSeries(labels());
      this.all.set(key, series);
    }
    return series;
  }

  async get(): Promise<Exposition> {
    const values = [...this.all.values()].map((s) => ({ labels: s.labels, value: s.value }));
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.all.clear();
  }
}

export class HistogramSeries {
  /** Observations per bucket, not cumulative; the last one is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

export class TalliedHistogram implements Tallied {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly all = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
  ) {}

  series(key: string, labels: () => Labels): HistogramSeries {
    let series = this.all.get(key);
    if (!series) {
      series = new HistogramSeries(labels(), this.bounds);
      this.all.set(key, series);
    }
    return series;
  }

  async get(): Promise<Exposition> {
    const values: Exposition['values'] = [];
    for (const series of this.all.values()) {
      let cumulative = 0;
      for (const [i, count] of series.counts.entries()) {
        cumulative += count;
        const le = i < this.bounds.length ? this.bounds[i]! : '+Inf';
        values.push({
          labels: { ...series.labels, le },
          value: cumulative,
          metricName: `${this.name}_bucket`,
        });
      }
      values.push({ labels: series.labels, value: series.sum, metricName: `${this.name}_sum` });
      values.push({ labels: series.labels, value: series.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.all.clear();
  }
}
