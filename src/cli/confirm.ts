import { createInterface } from 'node:readline';
import type { CommandIO } from './command.js';

/** Asks a yes/no question on stderr and reads one line from stdin: only "y" or "yes" is a yes; end of input is a no. */
export function confirm(io: CommandIO, question: string): Promise<boolean> {
  const input = io.stdin;
  if (!input) return Promise.resolve(false);
  io.stderr.write(question);
  const lines = createInterface({ input, terminal: false });
  return new Promise<boolean>((resolve) => {
    lines.once('line', (answer) => resolve(/^\s*y(es)?\s*$/i.test(answer)));
    lines.once('close', () => resolve(false));
  }).finally(() => lines.close());
}
