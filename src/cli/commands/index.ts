import type { Command } from '../command.js';
import { cancelCommand } from './cancel.js';
import { delayedCommand } from './delayed.js';
import { demoCommand } from './demo.js';
import { dequeueCommand } from './dequeue.js';
import { enqueueCommand } from './enqueue.js';
import { failedCommand } from './failed.js';
import { healthCommand } from './health.js';
import { infoCommand } from './info.js';
import { jobCommand } from './job.js';
import { limitsCommand } from './limits.js';
import { queueCommand } from './queue.js';
import { queuesCommand } from './queues.js';
import { retriesCommand } from './retries.js';
import { scheduleCommand } from './schedule.js';
import { schedulerCommand } from './scheduler.js';
import { webCommand } from './web.js';
import { workCommand } from './work.js';
import { WORK_OPTION_HELP } from './work-help.js';
import { workersCommand } from './workers.js';

/** Every `resque` command, in the order `resque --help` lists them. */
export const COMMANDS: readonly Command[] = [
  { ...workCommand, optionHelp: { ...WORK_OPTION_HELP, ...workCommand.optionHelp } },
  webCommand,
  infoCommand,
  demoCommand,
  queuesCommand,
  queueCommand,
  limitsCommand,
  enqueueCommand,
  dequeueCommand,
  workersCommand,
  healthCommand,
  failedCommand,
  retriesCommand,
  jobCommand,
  cancelCommand,
  schedulerCommand,
  delayedCommand,
  scheduleCommand,
];
