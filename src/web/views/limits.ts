import type { FlowControlView, LimitView, RateView } from '../../api/limits.js';
import type { QueueSummary } from '../../api/queues.js';
import { seg, type View } from '../context.js';
import { type Html, html } from '../html.js';
import { ago, count, duration } from './format.js';

/** `3 / 5` with a meter: jobs holding a limit's tokens against the limit. */
function usageMeter(running: number, limit: number): Html {
  return html`<meter min="0" max="${limit}" high="${limit}" optimum="0" value="${Math.min(running, limit)}" title="${count(running)} of ${count(limit)}"></meter> ${count(running)} / ${count(limit)}`;
}

function limitLabel(view: View, limit: LimitView): Html {
  if (limit.kind === 'queue')
    return html`queue <a href="${view.url(`/queues/${seg(limit.target)}`)}"><code>${limit.target}</code></a>`;
  if (limit.kind === 'key')
    return html`class <code>${limit.target}</code> <span class="muted">per key</span>`;
  if (limit.kind === 'class') return html`class <code>${limit.target}</code>`;
  return html`<code>${limit.name}</code>`;
}

function busiestKeys(limit: LimitView): Html {
  const keys = limit.keys ?? [];
  if (keys.length === 0) return html`<span class="muted">no key running</span>`;
  const more = (limit.activeKeys ?? keys.length) - keys.length;
  return html`<ul class="limit-keys">${keys.map(
    (k) =>
      html`<li><code>${k.key}</code> ${usageMeter(k.running, limit.limit)}${
        k.parked > 0 ? html` <span class="muted">· ${count(k.parked)} parked</span>` : ''
      }</li>`,
  )}${more > 0 ? html`<li class="muted">and ${count(more)} more keys</li>` : ''}</ul>`;
}

/**
 * The Limits section of the Queues page: each concurrency limit with its running jobs against the limit, its
 * parked jobs, and for keyed limits the busiest keys.
 */
export function limitsSection(view: View, flow: FlowControlView): Html {
  const rows = flow.limits.map(
    (l) => html`<tr data-limit="${l.name}">
<td>${limitLabel(view, l)}</td>
<td>${l.kind === 'key' ? html`${count(l.running)} <span class="muted">· at most ${count(l.limit)} per key</span>` : usageMeter(l.running, l.limit)}</td>
<td class="num">${l.parked > 0 ? html`<span class="warn">${count(l.parked)}</span>` : '0'}</td>
<td>${l.kind === 'key' ? busiestKeys(l) : ''}</td>
</tr>`,
  );
  return html`<section id="limits"><h2>Limits <span class="muted">${count(flow.limits.length)}</span></h2>${
    flow.limits.length === 0
      ? html`<p class="empty">No concurrency limits. Job classes set them with <code>concurrency</code>, queues with <code>resque queue limit</code>.</p>`
      : html`<table class="grid limits">
<thead><tr><th>Limit</th><th>Running</th><th class="num">Parked</th><th>Busiest keys</th></tr></thead>
<tbody>${rows}</tbody></table>${
          flow.partial
            ? html`<p class="muted">Many keys are in use: keyed figures count the first 1,000 read.</p>`
            : ''
        }`
  }${ratesSection(view, flow.rates)}</section>`;
}

function windowText(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}

function rateLabel(view: View, rate: RateView): Html {
  const { name, kind, target, limit, parked } = rate;
  return limitLabel(view, { name, kind, target, limit, parked, running: 0 });
}

/** A time to come, as `in 3 s` (`now` once it has passed). */
function until(date: Date, now: number): Html {
  const ms = date.getTime() - now;
  return html`<time datetime="${date.toISOString()}">${ms > 0 ? `in ${duration(ms)}` : 'now'}</time>`;
}

/** The rate limits: starts in the current window against the limit, parked jobs and when they may run. */
function ratesSection(view: View, rates: readonly RateView[]): Html {
  if (rates.length === 0) return html``;
  const rows = rates.map(
    (r) => html`<tr data-rate="${r.name}">
<td>${rateLabel(view, r)}</td>
<td>${
      r.kind === 'key'
        ? html`<span class="muted">at most ${count(r.limit)} per ${windowText(r.windowMs)} per key</span>`
        : html`${usageMeter(r.starts, r.limit)} <span class="muted">per ${windowText(r.windowMs)}</span>${
            r.blockedUntil
              ? html` <span class="state state-paused" title="a job said the limit is used up">held shut</span>`
              : ''
          }`
    }</td>
<td class="num">${r.parked > 0 ? html`<span class="warn">${count(r.parked)}</span>` : '0'}</td>
<td>${r.nextRoomAt ? until(r.nextRoomAt, view.now) : ''}${
      r.keys && r.keys.length > 0
        ? html`<ul class="limit-keys">${r.keys.map((k) => html`<li><code>${k.key}</code> ${count(k.parked)} parked</li>`)}</ul>`
        : ''
    }</td>
</tr>`,
  );
  return html`<h3>Rate limits <span class="muted">${count(rates.length)}</span></h3><table class="grid limits rates">
<thead><tr><th>Limit</th><th>Starts in the window</th><th class="num">Parked</th><th>Next room</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

/** What a queue's page says about its flow control: paused, its limit, its parked jobs; and the limit form. */
export function queueFlow(view: View, name: string, summary: QueueSummary | undefined): Html {
  const notes: Html[] = [];
  if (summary?.pausedAt)
    notes.push(
      html`Paused ${ago(summary.pausedAt, view.now)}: no resque-ts worker takes its jobs until it is resumed.`,
    );
  if (summary?.limit !== undefined)
    notes.push(
      html`<span class="state state-limited">limited</span> at most ${count(summary.limit)} of its jobs run at once${
        summary.parked
          ? html` · <strong>${count(summary.parked)}</strong> parked, waiting for a free slot`
          : ''
      }`,
    );
  const form = view.readOnly
    ? ''
    : html`<form method="post" action="${view.url(`/queues/${seg(name)}/limit`)}" class="inline limit-form"><input type="hidden" name="_csrf" value="${view.csrf}"><label>Limit <input name="limit" type="number" min="1" step="1" required value="${summary?.limit}" aria-label="Concurrency limit"></label><button type="submit">${summary?.limit === undefined ? 'Set limit' : 'Change limit'}</button></form>${
        summary?.limit !== undefined
          ? html`<form method="post" action="${view.url(`/queues/${seg(name)}/unlimit`)}" class="inline"><input type="hidden" name="_csrf" value="${view.csrf}"><button type="submit">Remove limit</button></form>`
          : ''
      }`;
  if (notes.length === 0 && !form) return html``;
  return html`<div class="flow" id="flow">${notes.map((n) => html`<p>${n}</p>`)}${form}</div>`;
}
