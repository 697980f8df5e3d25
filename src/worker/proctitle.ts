import { VERSION } from '../version.js';

/**
 * Process titles start `resque-<version>:` as Ruby's do, so `ps` shows what each worker is doing and Ruby's
 * same-host pruning (which looks for `resque-[0-9]` in `ps`) sees our workers as alive.
 */
export function setProcline(text: string, prefix = ''): void {
  const title = `${prefix}resque-${VERSION}: ${text}`;
  // Setting the title rewrites the process's argv area: skipped when nothing changed (in a fast drain, the title of
  // every job started within one second is the same).
  if (title === lastTitle) return;
  lastTitle = title;
  process.title = title;
}

let lastTitle: string | undefined;
