// The results table: one row per figure, a column per library, resque-ts's ratio to the best of the others and to
// BullMQ, and the target where the project set one. Ratios are resque-ts ÷ other for every row, so on a
// "lower is better" row (latency, memory, Redis work) a ratio under 1 means resque-ts is ahead.

export const ROWS = [
  {
    key: 'enqueueOne',
    label: 'Enqueue one at a time, each awaited (jobs/s)',
    better: 'higher',
    target: '≥ 1× BullMQ',
  },
  {
    key: 'enqueueBulk',
    label: 'Enqueue in bulk, 1,000 per call (jobs/s)',
    better: 'higher',
    target: '≥ 1× BullMQ',
  },
  { key: 'drain1', label: 'Drain, concurrency 1, in-process (jobs/s)', better: 'higher' },
  {
    key: 'drain50',
    label: 'Drain, concurrency 50, in-process (jobs/s)',
    better: 'higher',
    target: '≥ 1.5× BullMQ',
  },
  { key: 'drain1child', label: 'Drain, concurrency 1, child isolation (jobs/s)', better: 'higher' },
  {
    key: 'drain50child',
    label: 'Drain, concurrency 50, child isolation (jobs/s)',
    better: 'higher',
    target: '≥ 0.7× BullMQ concurrency 50 in-process',
  },
  { key: 'p50', label: 'Pickup latency p50 (ms)', better: 'lower', target: '≤ BullMQ' },
  { key: 'p99', label: 'Pickup latency p99 (ms)', better: 'lower', target: '< 5 ms' },
  { key: 'max', label: 'Pickup latency max (ms)', better: 'lower' },
  { key: 'backlogEnqueue', label: 'Enqueue one at a time, backlog queued (jobs/s)', better: 'higher' },
  {
    key: 'backlogEnqueueRatio',
    label: '… backlog ÷ empty queue, same runs',
    better: 'higher',
    target: '≥ 0.9',
  },
  { key: 'backlogDrain', label: 'Drain at concurrency 50, backlog queued (jobs/s)', better: 'higher' },
  {
    key: 'backlogDrainRatio',
    label: '… backlog ÷ empty queue, same runs',
    better: 'higher',
    target: '≥ 0.9',
  },
  { key: 'rss1', label: 'Worker peak RSS, drain at concurrency 1 (MB)', better: 'lower' },
  { key: 'rss50', label: 'Worker peak RSS, drain at concurrency 50 (MB)', better: 'lower' },
  {
    key: 'rss50child',
    label: 'Worker peak RSS, concurrency 50, child isolation, all processes (MB)',
    better: 'lower',
  },
  { key: 'cmdEnqueue', label: 'Redis commands per job: enqueue one', better: 'lower' },
  { key: 'cmdBulk', label: 'Redis commands per job: bulk enqueue', better: 'lower' },
  { key: 'cmdDrain1', label: 'Redis commands per job: drain, concurrency 1', better: 'lower' },
  { key: 'cmdDrain50', label: 'Redis commands per job: drain, concurrency 50', better: 'lower' },
  { key: 'cpuEnqueue', label: 'Redis CPU per job: enqueue one (µs)', better: 'lower' },
  { key: 'cpuDrain50', label: 'Redis CPU per job: drain, concurrency 50 (µs)', better: 'lower' },
];

const US = 'resque-ts';

function format(value) {
  if (typeof value === 'string') return value;
  if (value === undefined || Number.isNaN(value)) return '—';
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  if (Math.abs(value) >= 0.1 || value === 0) return value.toFixed(2);
  return value.toPrecision(2);
}

function ratio(ours, theirs) {
  return typeof ours === 'number' && typeof theirs === 'number' && theirs !== 0 ? ours / theirs : undefined;
}

/** Best of the other libraries' numeric figures for a row, by the row's direction. */
function bestOther(row, figures, libs) {
  const values = libs.filter((lib) => lib !== US && typeof figures[lib]?.[row.key] === 'number');
  if (values.length === 0) return undefined;
  const pick = row.better === 'higher' ? Math.max : Math.min;
  return pick(...values.map((lib) => figures[lib][row.key]));
}

/** Whether resque-ts meets the row's target in this run: "yes", "no" or "" (no target or no figure). */
export function verdict(row, figures) {
  const ours = figures[US]?.[row.key];
  const bull = figures.BullMQ ?? {};
  if (!row.target || typeof ours !== 'number') return '';
  // Each target: the BullMQ figure it compares with (null: an absolute bound) and the test.
  const targets = {
    enqueueOne: ['enqueueOne', (ref) => ours >= ref],
    enqueueBulk: ['enqueueBulk', (ref) => ours >= ref],
    drain50: ['drain50', (ref) => ours >= 1.5 * ref],
    drain50child: ['drain50', (ref) => ours >= 0.7 * ref],
    p50: ['p50', (ref) => ours <= ref],
    p99: [null, () => ours < 5],
    backlogEnqueueRatio: [null, () => ours >= 0.9],
    backlogDrainRatio: [null, () => ours >= 0.9],
  };
  const target = targets[row.key];
  if (!target) return '';
  const [reference, test] = target;
  if (reference && typeof bull[reference] !== 'number') return '';
  return test(bull[reference]) ? 'met' : 'missed';
}

/** The markdown table for `figures[lib][rowKey]` (numbers, or a string saying why there is none). */
export function table(figures, libs) {
  const head = ['Figure', ...libs, 'resque-ts ÷ best other', 'resque-ts ÷ BullMQ', 'Target', ''];
  const lines = [
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
  ];
  for (const row of ROWS) {
    if (libs.every((lib) => figures[lib]?.[row.key] === undefined)) continue;
    const ours = figures[US]?.[row.key];
    const best = bestOther(row, figures, libs);
    const vsBull = ratio(ours, figures.BullMQ?.[row.key]);
    const ratioCell = (value) => (value === undefined ? '—' : `${format(value)}×`);
    const relative = row.key.endsWith('Ratio');
    const cells = [
      `${row.label}${row.better === 'lower' ? ' ↓' : ''}`,
      ...libs.map((lib) => format(figures[lib]?.[row.key])),
      relative ? '' : ratioCell(ratio(ours, best)),
      relative ? '' : ratioCell(vsBull),
      row.target ?? '',
      verdict(row, figures),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** A number as the tables print it: thousands separated, `digits` decimals. */
export function formatNumber(n, digits = 0) {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/**
 * A one-library table of named figures: `row` records a figure under its key (what `--json` and the smoke tests
 * read) and as a markdown row `| label | text | target |`.
 */
export function figureTable() {
  const figures = {};
  const rows = [];
  const row = (key, label, value, text, target = '') => {
    figures[key] = value;
    rows.push(`| ${label} | ${text} | ${target} |`);
  };
  return { figures, rows, row };
}
