import { VERSION } from '../version.js';

/**
 * Process titles start `resque-<version>:` as Ruby's do, so `ps` shows what each worker is doing and Ruby's
 * same-host pruning (which looks for `resque-[0-9]` in `ps`) sees our workers as alive.
 */
export function setProcline(text: string, prefix = ''): void {
  process.title = `${prefix}resque-${VERSION}: ${text}`;
}
