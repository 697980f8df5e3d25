// The deployment files in examples/ and what docs/operations.md says of them; the Dockerfile is checked with
// dockerfile-utils, the unit with systemd-analyze where installed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const UNIT = readFileSync(join(ROOT, 'examples', 'resque-worker.service'), 'utf8');
const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

/** `Key=value` settings of the unit, the last one winning. */
function settings(unit: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const line of unit.split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (match) found.set(match[1]!, match[2]!);
  }
  return found;
}

function environment(unit: string): Map<string, string> {
  return new Map(
    [...unit.matchAll(/^Environment=([A-Z_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!] as [string, string]),
  );
}

describe('examples/resque-worker.service', () => {
  it.skipIf(!hasSystemdAnalyze)('passes systemd-analyze verify', () => {
    // The unit names /usr/bin/node; verify checks that the command exists, so this machine's node stands in for it.
    const dir = mkdtempSync(join(tmpdir(), 'resque-ts-unit-'));
    const file = join(dir, 'resque-worker.service');
    writeFileSync(file, UNIT.replace('ExecStart=/usr/bin/node', `ExecStart=${process.execPath}`));
    const result = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
    expect(`${result.stdout}${result.stderr}`).toBe('');
    expect(result.status).toBe(0);
  });

  it('gives a TERM shutdown the time it can take before systemd KILLs, and signals the worker only', () => {
    const unit = settings(UNIT);
    const env = environment(UNIT);
    const seconds = (name: string, fallbackMs: number) => Number(env.get(name) ?? fallbackMs / 1000);
    const longest =
      seconds('RESQUE_PRE_SHUTDOWN_TIMEOUT', DEFAULTS.preShutdownTimeoutMs) +
      seconds('RESQUE_TERM_TIMEOUT', DEFAULTS.termTimeoutMs) +
      2;
    expect(Number(unit.get('TimeoutStopSec'))).toBeGreaterThanOrEqual(longest);
    expect(unit.get('KillMode')).toBe('mixed');
    expect(unit.get('KillSignal')).toBe('SIGTERM');
    expect(unit.get('ExecStart')).toMatch(/^\/usr\/bin\/node \S+\/resque-ts\/dist\/cli\/main\.js work /);
    expect(unit.get('RestartPreventExitStatus')).toBe('2');
  });
});

describe('examples/Dockerfile', () => {
  const DOCKERFILE = readFileSync(join(ROOT, 'examples', 'Dockerfile'), 'utf8');
  const instructions = DOCKERFILE.split('\n').filter((line) => /^[A-Z]+ /.test(line));

  it('has no problem dockerfile-utils finds', () => {
    expect(validate(DOCKERFILE)).toEqual([]);
  });

  it('starts the worker in exec form under tini, so docker stop’s TERM reaches it', () => {
    const exec = (name: string) => {
      const line = instructions.find((l) => l.startsWith(`${name} `));
      return JSON.parse(line!.slice(name.length + 1)) as string[];
    };
    expect(exec('ENTRYPOINT')).toEqual(['/usr/bin/tini', '--']);
    expect(exec('CMD').slice(0, 2)).toEqual(['node_modules/.bin/resque', 'work']);
    expect(instructions.some((l) => /^RUN .*apt-get install .*\btini\b/.test(l))).toBe(true);
  });

  it('is the one docs/operations.md shows', () => {
    const docs = readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8');
    expect(docs).toContain(`\`\`\`dockerfile\n${DOCKERFILE}\`\`\``);
  });
});
