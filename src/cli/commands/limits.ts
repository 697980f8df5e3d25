import type { LimitView } from '../../api/limits.js';
import { withAdmin } from '../admin-session.js';
import { CONNECTION_OPTIONS, type Command, EXIT, UsageError } from '../command.js';
import { printTable } from '../output.js';
import { iso, writeJson } from './support.js';

/** `resque limits`: every concurrency limit with its running jobs against the limit, its parked jobs, busiest keys. */
export const limitsCommand: Command = {
  name: 'limits',
  summary:
    'Concurrency limits with the jobs running against each (running/limit), the jobs parked on it, the busiest ' +
    'keys of keyed limits; rate limits with their starts in the current window and parked jobs; paused queues.',
  usage: '[options]',
  options: CONNECTION_OPTIONS,
  run({ values, positionals }, io) {
    return withAdmin(values, async (admin) => {
      if (positionals.length > 0)
        throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
      const view = await admin.flowControl();
      if (values['json']) {
        writeJson(io, {
          ...view,
          rates: view.rates.map((r) => ({
            ...r,
            blockedUntil: iso(r.blockedUntil),
            nextRoomAt: iso(r.nextRoomAt),
            ...(r.keys ? { keys: r.keys.map((k) => ({ ...k, nextRoomAt: iso(k.nextRoomAt) })) } : {}),
          })),
          paused: view.paused.map((p) => ({ queue: p.queue, pausedAt: iso(p.pausedAt) })),
        });
        return EXIT.ok;
      }
      if (view.limits.length === 0) io.stdout.write('no concurrency limits\n');
      else
        printTable(
          io.stdout,
          ['limit', 'running', 'parked', 'busiest keys'],
          view.limits.map((l) => [
            l.kind === 'key' ? `${l.name} (per key)` : l.name,
            l.kind === 'key' ? `${l.running} (≤${l.limit} per key)` : `${l.running}/${l.limit}`,
            String(l.parked),
            busiest(l),
          ]),
        );
      if (view.partial) io.stdout.write('(many keys: keyed figures count the first 1,000 read)\n');
      if (view.rates.length === 0) io.stdout.write('no rate limits\n');
      else
        printTable(
          io.stdout,
          ['rate limit', 'starts in window', 'parked', 'next room'],
          view.rates.map((r) => [
            r.kind === 'key' ? `${r.name} (per key)` : r.name,
            r.kind === 'key'
              ? `≤${r.limit} per ${formatWindow(r.windowMs)} per key`
              : `${r.starts}/${r.limit} per ${formatWindow(r.windowMs)}${r.blockedUntil ? ' (held shut)' : ''}`,
            r.kind === 'key' && r.keys && r.keys.length > 0
              ? `${r.parked} (${r.keys
                  .slice(0, 3)
                  .map((k) => `${k.key} ${k.parked}`)
                  .join(', ')})`
              : String(r.parked),
            iso(r.nextRoomAt ?? r.blockedUntil) ?? '',
          ]),
        );
      if (view.paused.length > 0)
        io.stdout.write(`paused queues: ${view.paused.map((p) => p.queue).join(', ')}\n`);
      return EXIT.ok;
    });
  },
};

function formatWindow(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}

function busiest(limit: LimitView): string {
  if (!limit.keys) return '';
  const shown = limit.keys
    .slice(0, 3)
    .map((k) => `${k.key} ${k.running}/${limit.limit}${k.parked > 0 ? ` +${k.parked} parked` : ''}`);
  const more = (limit.activeKeys ?? 0) - shown.length;
  return [...shown, ...(more > 0 ? [`… ${more} more`] : [])].join(', ');
}
