import type { App, Reply } from '../context.js';

/** GET /metrics: the namespace's gauges for Prometheus, read at each scrape (prom-client loads on the first). */
export async function metrics(app: App): Promise<Reply> {
  const [{ renderClusterMetrics }, snapshot] = await Promise.all([
    import('../../observability/cluster-metrics.js'),
    app.admin.metricsSnapshot(),
  ]);
  const rendered = await renderClusterMetrics(snapshot);
  return { kind: 'text', body: rendered.text, contentType: rendered.contentType };
}
