import type { Command } from '../command.js';
import { infoCommand } from './info.js';

/** Every `resque` command, in the order `resque --help` lists them. */
export const COMMANDS: readonly Command[] = [infoCommand];
