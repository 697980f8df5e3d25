// `resque web` as a real process: prints its URL, serves under --prefix with --token and --read-only, stops after
// --seconds; bad options are usage errors.
import { describe, expect, it } from 'vitest';
import { CLI_MAIN, finished, runCli, spawnTs } from '../harness/cli.js';
import { sharedRedisUrl, uniqueNamespace } from '../harness/context.js';

describe('resque web', () => {
  it('serves the dashboard with the options given and stops after --seconds', async () => {
    const namespace = uniqueNamespace('cli-web');
    const child = spawnTs(CLI_MAIN, [
      'web',
      '--redis',
      sharedRedisUrl(),
      '--namespace',
      namespace,
      '--port',
      '0',
      '--prefix',
      '/resque',
      '--read-only',
      '--token',
      'tok',
      '--seconds',
      '4',
    ]);
    const done = finished(child);
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out);
      });
      child.once('exit', () => reject(new Error('resque web exited early')));
    });
    const url = /dashboard at (http:\/\/127\.0\.0\.1:\d+\/resque\/)/.exec(line)?.[1];
    expect(line).toContain(`namespace "${namespace}", read-only`);
    expect(url).toBeDefined();
    expect((await fetch(`${url}overview`)).status).toBe(401);
    const page = await fetch(`${url}overview`, { headers: { authorization: 'Bearer tok' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('read-only');
    const post = await fetch(`${url}api/queues/x/remove`, {
      method: 'POST',
      headers: { authorization: 'Bearer tok' },
    });
    expect(post.status).toBe(403);
    const result = await done;
    expect(result.code).toBe(0);
  });

  it('rejects bad options with the usage exit code', async () => {
    const bad = await runCli(['web', '--port', 'http', '--redis', sharedRedisUrl()]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--port must be a port number');
    const both = await runCli(['web', '--token', 'a', '--basic', 'u:p', '--redis', sharedRedisUrl()]);
    expect(both.code).toBe(2);
  });
});
