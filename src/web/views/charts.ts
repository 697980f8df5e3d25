import type { SeriesBucket } from '../../api/stats.js';
import { type Html, html } from '../html.js';
import { count, duration, utc } from './format.js';

const W = 600;
const H = 100;

/** Bars of jobs processed per bucket, the failed part stacked in the failure colour; gaps where nothing sampled. */
export function throughputChart(buckets: readonly SeriesBucket[], bucketMs: number): Html {
  const max = Math.max(1, ...buckets.map((b) => b.processed));
  const width = W / Math.max(1, buckets.length);
  const total = buckets.reduce((sum, b) => sum + b.processed, 0);
  const failed = buckets.reduce((sum, b) => sum + b.failed, 0);
  const bars = buckets.map((b, i) => {
    const x = i * width;
    if (!b.known)
      return html`<rect class="gap" x="${x}" y="${H - 2}" width="${width}" height="2"><title>${utc(new Date(b.at))}: no samples</title></rect>`;
    const h = (b.processed / max) * H;
    const hf = (b.failed / max) * H;
    return html`<g><title>${utc(new Date(b.at))} UTC: ${count(b.processed)} processed, ${count(b.failed)} failed</title><rect class="ok" x="${x + 0.5}" y="${H - h}" width="${Math.max(1, width - 1)}" height="${h}"></rect>${
      hf > 0
        ? html`<rect class="bad" x="${x + 0.5}" y="${H - hf}" width="${Math.max(1, width - 1)}" height="${hf}"></rect>`
        : ''
    }</g>`;
  });
  return chart(
    'Throughput',
    `${count(total)} processed, ${count(failed)} failed · per ${duration(bucketMs)} · peak ${count(max)}`,
    html`${bars}`,
  );
}

/** Failed / processed per bucket, as a line (0–100 %). */
export function failureRateChart(buckets: readonly SeriesBucket[], bucketMs: number): Html {
  const points = buckets.map((b, i) => ({
    x: (i + 0.5) * (W / Math.max(1, buckets.length)),
    rate: b.known && b.processed > 0 ? Math.min(1, b.failed / b.processed) : undefined,
    at: b.at,
  }));
  const known = points.filter((p) => p.rate !== undefined);
  const processed = buckets.reduce((sum, b) => sum + b.processed, 0);
  const failed = buckets.reduce((sum, b) => sum + b.failed, 0);
  const overall = processed > 0 ? `${((failed / processed) * 100).toFixed(1)} %` : '–';
  return chart(
    'Failure rate',
    `${overall} overall · per ${duration(bucketMs)}`,
    html`${polyline(
      known.map((p) => [p.x, H - p.rate! * H]),
      'line bad',
    )}${known.map(
      (p) =>
        html`<circle class="dot bad" cx="${p.x}" cy="${H - p.rate! * H}" r="2"><title>${utc(new Date(p.at))} UTC: ${(p.rate! * 100).toFixed(1)} %</title></circle>`,
    )}`,
  );
}

/** Pending jobs and the longest wait at each bucket's end. */
export function backlogChart(buckets: readonly SeriesBucket[]): Html {
  const width = W / Math.max(1, buckets.length);
  const pending = buckets.map((b, i) => ({
    x: (i + 0.5) * width,
    v: b.pending,
    at: b.at,
    lat: b.maxLatencyMs,
  }));
  const max = Math.max(1, ...pending.map((p) => p.v ?? 0));
  const known = pending.filter((p) => p.v !== undefined);
  const last = known.at(-1);
  return chart(
    'Backlog',
    `${last ? `${count(last.v)} pending, oldest waiting ${duration(last.lat)}` : 'no samples'} · peak ${count(max)}`,
    html`${polyline(
      known.map((p) => [p.x, H - (p.v! / max) * H]),
      'line',
    )}${known.map(
      (p) =>
        html`<circle class="dot" cx="${p.x}" cy="${H - (p.v! / max) * H}" r="2"><title>${utc(new Date(p.at))} UTC: ${count(p.v)} pending, oldest ${duration(p.lat)}</title></circle>`,
    )}`,
  );
}

/** A small trend for a table cell: one bar per bucket. */
export function sparkline(values: readonly number[] | undefined, label: string): Html {
  if (!values || values.length === 0) return html`<span class="muted">–</span>`;
  const max = Math.max(1, ...values);
  const w = 80;
  const h = 18;
  const step = w / values.length;
  return html`<svg class="spark" viewBox="0 0 ${w} ${h}" preserveAspectRatio="none" role="img" aria-label="${label}"><title>${label}</title>${values.map(
    (v, i) =>
      v > 0
        ? html`<rect x="${i * step}" y="${h - (v / max) * h}" width="${Math.max(1, step - 0.5)}" height="${(v / max) * h}"></rect>`
        : '',
  )}</svg>`;
}

function polyline(points: ReadonlyArray<[number, number]>, className: string): Html {
  if (points.length < 2) return html``;
  return html`<polyline class="${className}" points="${points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ')}"></polyline>`;
}

function chart(title: string, caption: string, content: Html): Html {
  return html`<figure class="chart"><figcaption><strong>${title}</strong> <span class="muted">${caption}</span></figcaption><svg viewBox="0 0 ${W} ${H}" preserveAspectRatio="none" role="img" aria-label="${title}"><line class="axis" x1="0" y1="${H}" x2="${W}" y2="${H}"></line>${content}</svg></figure>`;
}

/**
 * What the charts count, under them: they are drawn from samples a running dashboard takes (every 10 s), so they
 * start when sampling started and show gaps where none ran; the processed counter counts every job ever.
 */
export function chartNote(buckets: readonly SeriesBucket[]): Html {
  const first = buckets.find((b) => b.known);
  if (!first) {
    return html`<p class="chart-note" data-chart-note="empty">No history yet: the charts are drawn from samples a running dashboard takes every 10 s, so the first bars appear about 20 s after one starts (and gaps show where none ran).</p>`;
  }
  return html`<p class="chart-note" data-chart-note="partial">The charts count jobs between samples a running dashboard takes every 10 s, from <time datetime="${new Date(first.at).toISOString()}">${utc(new Date(first.at))} UTC</time> in this window: jobs done before sampling started, or while no dashboard ran, are not in them, which is why their totals can be below the processed counter.</p>`;
}
