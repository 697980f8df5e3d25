import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applicationRelease } from '../../src/config/release.js';

describe('the application release written with error groups', () => {
  it('is the version of the nearest package.json above the working directory', () => {
    const app = mkdtempSync(join(tmpdir(), 'release-'));
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'shop', version: '3.4.5' }));
    mkdirSync(join(app, 'dist', 'jobs'), { recursive: true });
    expect(applicationRelease(join(app, 'dist', 'jobs'))).toBe('3.4.5');
  });

  it('is "unknown" where neither a package.json nor git says', () => {
    const bare = mkdtempSync(join(tmpdir(), 'release-'));
    expect(applicationRelease(bare)).toBe('unknown');
  });
});
