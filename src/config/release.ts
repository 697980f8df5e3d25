import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const found = new Map<string, string>();

/**
 * The application's release, written with error groups when `release` (`RESQUE_RELEASE`) is not set: the version in
 * the nearest package.json above `cwd`, else `git describe --always --tags` there, else `unknown`. Looked up once
 * per folder.
 */
export function applicationRelease(cwd: string): string {
  let release = found.get(cwd);
  if (release === undefined) {
    release = packageVersion(cwd) ?? gitDescribe(cwd) ?? 'unknown';
    found.set(cwd, release);
  }
  return release;
}

function packageVersion(cwd: string): string | undefined {
  for (let dir = cwd; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const version = (JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version;
        if (typeof version === 'string' && version !== '') return version;
      } catch {
        // not a package.json we can read: look further up
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

function gitDescribe(cwd: string): string | undefined {
  try {
    const text = execFileSync('git', ['describe', '--always', '--tags'], {
      cwd,
      timeout: 2000,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return text || undefined;
  } catch {
    return undefined;
  }
}
