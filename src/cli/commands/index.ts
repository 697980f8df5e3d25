import type { Command } from '../command.js';
import { demoCommand } from './demo.js';
import { infoCommand } from './info.js';
import { workCommand } from './work.js';

/** Every `resque` command, in the order `resque --help` lists them. */
export const COMMANDS: readonly Command[] = [workCommand, infoCommand, demoCommand];
