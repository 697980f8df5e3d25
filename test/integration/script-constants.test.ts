// withConstants (redis/scripts.ts): a constant reaches the script as exactly the bytes of its value, whatever they
// are (the literal escapes every byte outside printable ASCII, quotes and backslashes).
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { type LuaScript, runScript, withConstants } from '../../src/redis/scripts.js';
import { rawRedis } from '../harness/context.js';

const source = 'return VALUE\n';
const ECHO: LuaScript = { name: 'echo', source, sha: createHash('sha1').update(source).digest('hex') };

describe('withConstants', () => {
  const redis = rawRedis();
  afterAll(() => {
    redis.disconnect();
  });

  it('passes any value through as its UTF-8 bytes', async () => {
    const values = [
      '',
      'plain:ns',
      'quote " and \' and \\ backslash \\\\',
      'long brackets ]] [[ ]=] --[[ comment',
      'lines\nand\r\nreturns\tand \u0000 NUL',
      'é € 😀 \u0001 \u007f',
      '\\065 is not A',
    ];
    for (const value of values) {
      const script = withConstants(ECHO, { VALUE: value });
      expect(await runScript(redis, script, [], [])).toBe(value);
    }
  });
});
