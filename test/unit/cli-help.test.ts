// `resque <command> --help` is generated: every option of every command, with its default and environment
// variable, from the command's own option definitions and the option table of src/config/options.ts.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Command } from '../../src/cli/command.js';
import { loadCommands } from '../../src/cli/commands/index.js';
import { optionDocs } from '../../src/cli/help.js';
import { DEFAULTS } from '../../src/config/options.js';
import { VERSION } from '../../src/version.js';
import { resqueInProcess } from '../harness/cli-in-process.js';
import { optionReference, optionReferenceModule } from '../harness/options-doc.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Source as the repository's formatter writes it, so the generated file passes `npm run lint`. */
function formatted(source: string, path: string): string {
  return execFileSync('node_modules/.bin/biome', ['format', `--stdin-file-path=${path}`], {
    cwd: ROOT,
    input: source,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'ignore'],
  });
}

describe('src/cli/option-reference.ts', () => {
  it('is generated from src/config/options.ts', () => {
    const expected = formatted(
      optionReferenceModule(optionReference(read('src/config/options.ts'), DEFAULTS)),
      'src/cli/option-reference.ts',
    );
    if (process.env['UPDATE_DOCS'] && read('src/cli/option-reference.ts') !== expected) {
      writeFileSync(new URL('../../src/cli/option-reference.ts', import.meta.url), expected);
      return;
    }
    expect(
      read('src/cli/option-reference.ts'),
      'run UPDATE_DOCS=1 npx vitest run test/unit/cli-help.test.ts',
    ).toBe(expected);
  });
});

describe('resque help', () => {
  let COMMANDS: Command[] = [];
  beforeAll(async () => {
    COMMANDS = await loadCommands();
  });
  it('describes every option of every command', () => {
    for (const command of COMMANDS) {
      const undocumented = optionDocs(command).filter((doc) => !doc.description);
      expect(undocumented.map((doc) => `${command.name} --${doc.name}`)).toEqual([]);
    }
  });

  it('lists every option of a command with its default and environment variable', async () => {
    for (const command of COMMANDS) {
      const { code, stdout } = await resqueInProcess([command.name, '--help']);
      expect(code).toBe(0);
      expect(stdout.startsWith(`Usage: resque ${command.name} `)).toBe(true);
      for (const name of Object.keys(command.options ?? {})) expect(stdout).toContain(`--${name}`);
      expect((await resqueInProcess(['help', command.name])).stdout).toBe(stdout);
    }
    const work = (await resqueInProcess(['work', '-h'])).stdout;
    expect(work).toMatch(/-i, --interval <seconds>\s+Poll interval .*\[default: 5; env: INTERVAL\]/s);
    expect(work).toMatch(/--job-timeout <seconds>[\s\S]*?\[default: 0;\s+env: RESQUE_JOB_TIMEOUT\]/);
    expect(work).toMatch(
      /-r, --redis <url>\s+Redis to talk to\. \[default: redis:\/\/127\.0\.0\.1:6379; env:\s+REDIS_URL\]/,
    );
    expect(work).toMatch(/--require <module>[\s\S]*?\[env: RESQUE_REQUIRE/);
    const failed = (await resqueInProcess(['failed', '--help'])).stdout;
    expect(failed).toMatch(/-y, --yes\s+Do not ask for confirmation on a terminal\. \(clear\)/);
    const web = (await resqueInProcess(['web', '--help'])).stdout;
    expect(web).toMatch(/-p, --port <port>\s+.*\[default: 5678; env:\s+RESQUE_WEB_PORT\]/s);
  });

  it('keeps help lines within 100 columns', async () => {
    for (const command of COMMANDS) {
      const options = (await resqueInProcess(['help', command.name])).stdout.split('\nOptions:\n')[1] ?? '';
      expect(options.split('\n').filter((line) => line.length > 100)).toEqual([]);
    }
  });

  it('lists the commands, help and version; prints the version', async () => {
    const overview = await resqueInProcess(['--help']);
    expect(overview.code).toBe(0);
    for (const name of [...COMMANDS.map((c) => c.name), 'help', 'version']) {
      expect(overview.stdout).toMatch(new RegExp(`^  ${name}\\s`, 'm'));
    }
    expect(await resqueInProcess(['help'])).toEqual(overview);
    const bare = await resqueInProcess([]);
    expect(bare).toEqual({ code: 2, stdout: '', stderr: overview.stdout });
    for (const args of [['version'], ['--version'], ['-v']]) {
      expect(await resqueInProcess(args)).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
    }
    expect(JSON.parse((await resqueInProcess(['version', '--json'])).stdout)).toEqual({ version: VERSION });
  });
});
