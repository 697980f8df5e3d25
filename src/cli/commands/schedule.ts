import type { Admin } from '../../api/admin.js';
import type { JsonValue } from '../../protocol/json.js';
import type { MissedRunPolicy, ScheduleConfig } from '../../scheduler/schedule-config.js';
import { ScheduleStore } from '../../scheduler/schedule-store.js';
import { runScheduleNow, scheduleOverview } from '../../scheduler/schedule-view.js';
import {
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  type Command,
  type CommandIO,
  EXIT,
  UsageError,
} from '../command.js';
import { printTable } from '../output.js';
import {
  type CommandValues,
  jsonArguments,
  oneOf,
  positiveInteger,
  runAdmin,
  stringOption,
  writeJson,
} from './support.js';

const OPTIONS = {
  ...CONNECTION_OPTIONS,
  cron: { type: 'string' },
  every: { type: 'string' },
  class: { type: 'string', short: 'c' },
  queue: { type: 'string', short: 'q' },
  description: { type: 'string' },
  missed: { type: 'string' },
  'missed-limit': { type: 'string' },
  replace: { type: 'boolean' },
} as const;

type Action = (admin: Admin, values: CommandValues, args: string[], io: CommandIO) => Promise<number>;

const store = (admin: Admin) =>
  admin.layout ? admin.schedules : new ScheduleStore(admin.resque.redis, admin.resque.keys);

function nameArg(name: string | undefined): string {
  if (!name) throw new UsageError('a schedule name is required');
  return name;
}

/** `schedule [list]`: persistent schedules with next and last run, and the current master. */
const list: Action = async (admin, values, _args, io) => {
  const overview = admin.layout
    ? await admin.scheduleOverview()
    : await scheduleOverview(admin.resque.redis, admin.resque.keys);
  if (values['json']) {
    writeJson(io, overview);
    return EXIT.ok;
  }
  io.stdout.write(`master: ${overview.master ?? '(none)'}\n`);
  printTable(
    io.stdout,
    ['name', 'state', 'interval', 'class', 'queue', 'next run', 'last enqueued'],
    overview.schedules.map((s) => [
      s.name,
      s.problem ? 'invalid' : s.enabled ? 'enabled' : 'disabled',
      s.interval,
      s.className ?? '',
      s.queue ?? '',
      s.nextRunMs === undefined ? '' : new Date(s.nextRunMs).toISOString(),
      s.lastEnqueuedAt ?? '',
    ]),
  );
  return EXIT.ok;
};

/** `schedule add <name> --cron|--every … --class C --queue q [args…]`: a persistent schedule (refuses an existing name unless --replace). */
const add: Action = async (admin, values, [name, ...rest], io) => {
  const cron = stringOption(values, 'cron');
  const every = stringOption(values, 'every');
  if ((cron === undefined) === (every === undefined))
    throw new UsageError('give exactly one of --cron or --every');
  const args = jsonArguments(rest);
  const config: ScheduleConfig = {
    ...(cron !== undefined ? { cron } : { every: every as string }),
    class: stringOption(values, 'class') ?? nameArg(name),
    ...(stringOption(values, 'queue') !== undefined ? { queue: stringOption(values, 'queue') } : {}),
    ...(args.length > 0 ? { args: args as JsonValue } : {}),
    ...(stringOption(values, 'description') !== undefined
      ? { description: stringOption(values, 'description') }
      : {}),
    missed: oneOf<MissedRunPolicy>(values, 'missed', ['skip', 'once', 'all'], 'skip'),
    missedLimit: positiveInteger(values, 'missed-limit', 10),
  };
  const schedule = await store(admin).set(nameArg(name), config, { create: values['replace'] !== true });
  if (values['json']) writeJson(io, { name: schedule.name, stored: schedule.rubyConfig });
  else io.stdout.write(`scheduled ${schedule.name}\n`);
  return EXIT.ok;
};

const removeSchedule: Action = async (admin, values, [name], io) => {
  const removed = await store(admin).remove(nameArg(name));
  if (values['json']) writeJson(io, { removed });
  else io.stdout.write(removed ? `removed ${name}\n` : `no schedule ${name}\n`);
  return removed ? EXIT.ok : EXIT.failure;
};

const switchTo =
  (enabled: boolean): Action =>
  async (admin, values, [name], io) => {
    const changed = await store(admin).setEnabled(nameArg(name), enabled);
    if (values['json']) writeJson(io, { changed });
    else
      io.stdout.write(
        changed
          ? `${enabled ? 'enabled' : 'disabled'} ${name}\n`
          : `no ${enabled ? 'disabled' : 'enabled'} schedule ${name}\n`,
      );
    return changed ? EXIT.ok : EXIT.failure;
  };

/** `schedule run <name>`: one run now, outside its ticks (resque-scheduler's "Queue now"). */
const run: Action = async (admin, values, [name], io) => {
  const ran = admin.layout
    ? await admin.runSchedule(nameArg(name))
    : await runScheduleNow(admin.resque.redis, admin.resque.keys, nameArg(name), {
        strictPayloads: admin.config.strictPayloads,
      });
  if (values['json']) writeJson(io, { enqueued: ran });
  else io.stdout.write(ran ? `enqueued ${name}\n` : `no schedule ${name}\n`);
  return ran ? EXIT.ok : EXIT.failure;
};

const ACTIONS: Record<string, Action> = {
  list,
  add,
  remove: removeSchedule,
  enable: switchTo(true),
  disable: switchTo(false),
  run,
};

/** `resque schedule …`: the recurring schedules shared through Redis (resque-scheduler's persistent schedules). */
export const scheduleCommand: Command = {
  name: 'schedule',
  summary:
    'Recurring schedules in Redis: "list", "add <name> --cron|--every …", "remove", "enable", "disable", "run <name>".',
  usage: '[list|add <name> [args…]|remove <name>|enable <name>|disable <name>|run <name>] [options]',
  options: OPTIONS,
  optionHelp: {
    ...CONNECTION_HELP,
    cron: {
      value: 'expr',
      description: 'Cron: 5 fields, or 6 with seconds first, optionally a time zone last.',
    },
    every: { value: 'duration', description: 'An interval: 30s, 5m, 1h30m, 1d.' },
    class: { value: 'class', description: 'Job class.', default: 'the schedule name' },
    queue: { value: 'queue', description: 'Queue to enqueue to.' },
    description: { value: 'text', description: 'Shown beside the schedule.' },
    missed: {
      value: 'policy',
      description: 'Ticks missed while no scheduler ran: skip, once or all.',
      default: 'skip',
    },
    'missed-limit': {
      value: 'n',
      description: 'With --missed all, the most missed ticks enqueued.',
      default: '10',
    },
    replace: { description: 'Replace a schedule of the same name instead of refusing.' },
  },
  check({ positionals }) {
    const action = positionals[0] ?? 'list';
    if (!ACTIONS[action]) throw new UsageError(`unknown action "${action}"`);
  },
  run({ values, positionals }, io) {
    const [action = 'list', ...args] = positionals;
    return runAdmin(scheduleCommand, values, io, (admin) => ACTIONS[action]!(admin, values, args, io));
  },
};
