// What `npm pack` ships, checked on the real tarball: its contents, and that CommonJS code can require() it.
// It packs the dist that `npm run build` left (npm test builds first); scripts are skipped so the build that other
// tests may be reading is not wiped.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../src/version.js';
import { removeDir } from '../harness/redis-server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface PackedFile {
  path: string;
  size: number;
}

interface Manifest {
  engines: { node: string };
  scripts: Record<string, string>;
  exports: Record<string, string | Record<string, string>>;
  bin: Record<string, string>;
}

describe('the npm package', () => {
  let dir: string;
  let files: string[];
  let packedSize: number;
  let installed: string;

  beforeAll(() => {
    if (!existsSync(join(ROOT, 'dist', 'index.js')))
      throw new Error('dist is missing: run `npm run build` first');
    dir = mkdtempSync(join(tmpdir(), 'resque-ts-pack-'));
    const output = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const [packed] = JSON.parse(output) as Array<{ filename: string; size: number; files: PackedFile[] }>;
    files = packed!.files.map((file) => file.path).sort();
    packedSize = packed!.size;
    // An application's node_modules with the tarball in it; its dependencies are linked from this checkout.
    installed = join(dir, 'app', 'node_modules', 'resque-ts');
    mkdirSync(installed, { recursive: true });
    execFileSync('tar', ['xzf', join(dir, packed!.filename), '-C', installed, '--strip-components=1']);
    const { dependencies } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    for (const name of Object.keys(dependencies))
      symlinkSync(join(ROOT, 'node_modules', name), join(dir, 'app', 'node_modules', name), 'dir');
  });

  afterAll(() => {
    if (dir) removeDir(dir);
  });

  it('ships the build, the README, the changelog and the docs, and nothing else', () => {
    const tops = new Set(files.map((path) => (path.includes('/') ? `${path.split('/')[0]}/` : path)));
    expect([...tops].sort()).toEqual(['CHANGELOG.md', 'README.md', 'dist/', 'docs/', 'package.json']);
    expect(files).toEqual(
      expect.arrayContaining([
        'dist/index.js',
        'dist/index.d.ts',
        'dist/web/index.js',
        'dist/testing/index.js',
        'dist/cli/main.js',
        'dist/worker/fetch/reserve.lua',
        'dist/fleet/beat.lua',
        'dist/web/assets/app.js',
        'docs/failures.md',
        'docs/grafana-dashboard.json',
      ]),
    );
    expect(files.filter((path) => path.startsWith('docs/screenshots/'))).toEqual([]);
    // Source maps would point at ../src, which is not shipped; the compiled ES2022 reads as the source does.
    expect(files.filter((path) => path.endsWith('.map'))).toEqual([]);
    expect(files.filter((path) => /(^|\/)(test|tests|__tests__)\/|\.test\.[jt]s$/.test(path))).toEqual([]);
    // Far below the 1.2 MB of screenshots this bound is there to catch, with room for the code and docs to grow.
    expect(packedSize).toBeLessThan(700_000);
  });

  it('points every export and the bin at a shipped file, builds on prepare, and needs a Node that can require() ESM', () => {
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as Manifest;
    expect(manifest.engines.node).toBe('>=20.19');
    expect(manifest.scripts['prepare']).toBe('npm run build');
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      const targets = typeof target === 'string' ? [target] : Object.values(target);
      if (typeof target !== 'string') expect(Object.keys(target), subpath).toContain('default');
      for (const file of targets) expect(files, `${subpath} → ${file}`).toContain(file.replace(/^\.\//, ''));
    }
    const bin = manifest.bin['resque']!.replace(/^\.\//, '');
    expect(files).toContain(bin);
    expect(readFileSync(join(installed, bin), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('can be require()d from CommonJS, with its subpaths, and works', () => {
    const script = join(dir, 'app', 'main.cjs');
    writeFileSync(
      script,
      `const { Resque, defineJob, VERSION } = require('resque-ts');
const { createDashboard } = require('resque-ts/web');
const { inlineResque } = require('resque-ts/testing');
const done = [];
const Add = defineJob({ className: 'Add', queue: 'math', perform: (ctx, a, b) => { done.push(a + b); } });
const resque = inlineResque({ jobs: [Add] });
resque.enqueue(Add, 2, 3).then(() => {
  console.log(JSON.stringify({
    version: VERSION,
    client: typeof Resque,
    dashboard: typeof createDashboard,
    done,
    manifest: require('resque-ts/package.json').name,
  }));
});
`,
    );
    const run = spawnSync(process.execPath, [script], { cwd: join(dir, 'app'), encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({
      version: VERSION,
      client: 'function',
      dashboard: 'function',
      done: [5],
      manifest: 'resque-ts',
    });
  });

  it('needs @opentelemetry/api only with tracing on, and says so when it is not installed', () => {
    const script = join(dir, 'app', 'tracing.mjs');
    writeFileSync(
      script,
      `import { Resque } from 'resque-ts';
try {
  new Resque({ tracing: true, redis: 'redis://127.0.0.1:1' });
  console.log('no error');
} catch (error) {
  console.log(error.message);
}
`,
    );
    const run = spawnSync(process.execPath, [script], { cwd: join(dir, 'app'), encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe(
      'Invalid option "tracing": tracing needs the @opentelemetry/api package, which is not installed (npm install @opentelemetry/api, and register a tracer provider)',
    );
  });

  it('runs its CLI from the installed package', () => {
    const run = spawnSync(process.execPath, [join(installed, 'dist', 'cli', 'main.js'), '--version'], {
      encoding: 'utf8',
    });
    expect(run.stdout).toBe(`${VERSION}\n`);
    expect(run.status).toBe(0);
  });
});
