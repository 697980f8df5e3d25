// The front door must stay true: README's two command lines, its configuration table and quick start, and the
// key reference in docs/redis-keys.md, checked against the code they describe.
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config/options.js';
import { Keys } from '../../src/protocol/keys.js';
import { optionsTable, withOptionsTable } from '../harness/options-doc.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('README.md', () => {
  const readme = read('README.md');

  it('opens with exactly two command lines: install and demo, then the tests', () => {
    const [first, ...rest] = readme.split('```sh\n')[1]!.split('\n```')[0]!.split('\n');
    expect(readme.startsWith('```sh\n')).toBe(true);
    expect(rest).toHaveLength(1);
    expect(rest[0]).toMatch(/^command -v chromium .*apt-get install -y -qq chromium; \}; npm test$/);
    expect(first).toMatch(
      /^command -v redis-server .*apt-get install -y -qq redis-server.*; npm ci && npm run demo$/,
    );
  });

  it('has the configuration table of src/config/options.ts', () => {
    const current = withOptionsTable(readme, optionsTable(read('src/config/options.ts'), DEFAULTS));
    if (process.env['UPDATE_DOCS'] && current !== readme) {
      writeFileSync(new URL('../../README.md', import.meta.url), current);
      return;
    }
    expect(readme, 'run UPDATE_DOCS=1 npx vitest run test/unit/readme.test.ts').toBe(current);
  });

  it('shows examples/quick-start.ts as its quick start', () => {
    const example = read('examples/quick-start.ts').replace("'../src/index.js'", "'resque-ts'");
    expect(readme).toContain(`\`\`\`ts\n${example}\`\`\``);
  });
});

describe('docs/redis-keys.md', () => {
  const doc = read('docs/redis-keys.md');
  const NOT_KEYS = new Set([
    'constructor',
    'logical',
    'named',
    'stat',
    'failedList',
    'queuePrefix',
    'fairRotationPrefix',
    'fairTenantPrefix',
    'announce',
    'limitSpec',
    'rateSpec',
  ]);

  it('lists every key and channel src/protocol/keys.ts builds', () => {
    const keys = new Keys('ns');
    const undocumented: string[] = [];
    for (const name of Object.getOwnPropertyNames(Keys.prototype)) {
      if (NOT_KEYS.has(name)) continue;
      const descriptor = Object.getOwnPropertyDescriptor(Keys.prototype, name)!;
      const full: string = descriptor.get
        ? descriptor.get.call(keys)
        : (descriptor.value as (...args: string[]) => string).call(
            keys,
            ...Array.from({ length: Math.max(1, (descriptor.value as () => string).length) }, () => '\u0000'),
          );
      const logical = full.replace(/^ns:/, '');
      const pattern = new RegExp(
        `\`${logical
          .split('\u0000')
          .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('<[^>]+>')}\``,
      );
      if (!pattern.test(doc)) undocumented.push(`${name} → ${logical.replaceAll('\u0000', '<…>')}`);
    }
    expect(undocumented).toEqual([]);
  });
});
