// The security headers on every kind of answer, errors included (and Cache-Control: no-store on all but the static
// files), request targets Node accepts but URL parsing does not, the asset names of Object.prototype, and a redirect
// target that would inject a header.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/protocol/keys.js';
import { type DashboardServer, startDashboardServer } from '../../src/web/index.js';
import { SECURITY_HEADERS } from '../../src/web/security/headers.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import { rawRequest, type Served, serve, WebClient } from './client.js';
import { seed } from './fixture.js';

const namespace = uniqueNamespace('web-headers');
const redis = rawRedis();
const basic = { basic: { username: 'ops', password: 'pw' } };
let open: Served;
let token: Served;
let basicAuth: Served;
let prefixed: Served;
let standalone: DashboardServer;

beforeAll(async () => {
  await seed(redis, sharedRedisUrl(), namespace);
  const common = { redis: sharedRedisUrl(), namespace };
  open = await serve(common);
  token = await serve({ ...common, auth: { token: 'tok' } });
  basicAuth = await serve({ ...common, auth: basic });
  prefixed = await serve({ ...common, prefix: '/resque' });
  standalone = await startDashboardServer({ ...common, port: 0, sampleIntervalMs: 0 });
});
afterAll(async () => {
  await Promise.all([open, token, basicAuth, prefixed].map((s) => s.close()));
  await standalone.close();
  redis.disconnect();
});

function expectHeaders(
  headers: { get(name: string): string | null | undefined },
  what: string,
  cached = false,
) {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    if (name === 'Cache-Control') continue;
    expect(headers.get(name.toLowerCase()), `${what}: ${name}`).toBe(value);
  }
  if (!cached) expect(headers.get('cache-control'), `${what}: Cache-Control`).toBe('no-store');
  expect(headers.get('content-type') ?? (cached ? 'none' : undefined), `${what}: Content-Type`).toBeTruthy();
}

describe('every kind of answer carries the security headers', () => {
  it('pages, API, text, redirects, errors, 401s, 403s, 405, assets', async () => {
    const c = open.client;
    const cases: Array<[string, () => Promise<{ status: number; headers: Headers }>, number]> = [
      ['page', () => c.get('/overview'), 200],
      ['fragment', () => c.get('/overview', { 'x-dashboard-fragment': '1' }), 200],
      ['API', () => c.get('/api/overview'), 200],
      ['stats.txt', () => c.get('/stats.txt'), 200],
      ['404 page', () => c.get('/nope'), 404],
      ['404 API', () => c.get('/api/nope'), 404],
      ['400', () => c.get('/failed?start=-1'), 400],
      ['405', () => c.send('PUT', '/overview'), 405],
      ['403 CSRF', () => c.post('/queues/mail/remove', { _csrf: '' }), 403],
      ['403 origin', () => c.post('/queues/mail/remove', {}, { origin: 'http://evil.example' }), 403],
      ['token 401 page', () => token.client.get('/overview'), 401],
      ['token 401 API', () => token.client.get('/api/overview'), 401],
      ['token 401 bearer', () => token.client.get('/api/overview', { authorization: 'Bearer x' }), 401],
      ['basic 401', () => basicAuth.client.get('/overview'), 401],
      ['basic 401 API', () => basicAuth.client.get('/api/overview'), 401],
      ['404 outside the prefix', () => prefixed.client.get('/elsewhere'), 404],
    ];
    for (const [what, request, status] of cases) {
      const answer = await request();
      expect(answer.status, what).toBe(status);
      expectHeaders(answer.headers, what);
    }
    const redirect = await c.get('/');
    expect(redirect.status).toBe(303);
    expectHeaders({ get: (n) => (n === 'content-type' ? 'none' : redirect.headers.get(n)) }, 'redirect');
    const asset = await c.get('/assets/app.css');
    expect(asset.status).toBe(200);
    expectHeaders(asset.headers, 'asset', true);
    expect(asset.headers.get('cache-control')).toContain('immutable');
  });

  it("answers Object.prototype's names under /assets/ with 404 in every mode, before auth", async () => {
    for (const web of [open, token, basicAuth]) {
      for (const name of ['toString', '__proto__', 'constructor', 'hasOwnProperty']) {
        const answer = await new WebClient(web.base).get(`/assets/${name}`);
        expect(answer.status, name).toBe(404);
        expectHeaders(answer.headers, name);
      }
    }
  });

  it('answers request targets URL parsing refuses, and absolute-form targets, without a 5xx', async () => {
    for (const target of ['//a:99999/', 'http://x:99999/overview', '/%', '/%E2%82', '/overview?%=%&a', '*']) {
      const answer = await rawRequest(
        open.base,
        `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      );
      expect(answer.status, target).toBeLessThan(500);
      expectHeaders(answer.headers, target);
    }
    const absolute = await rawRequest(
      open.base,
      'GET http://x:99999/overview HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(absolute.status).toBe(200);
  });

  it("gives Node's own 431 and 400 the headers on the standalone server", async () => {
    const big = `GET /overview HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`;
    const tooLarge = await rawRequest(standalone.url, big);
    expect(tooLarge.status).toBe(431);
    expectHeaders(tooLarge.headers, '431');
    const malformed = await rawRequest(standalone.url, 'GARBAGE\r\n\r\n');
    expect(malformed.status).toBe(400);
    expectHeaders(malformed.headers, '400');
  });
});

describe('redirect targets', () => {
  it('never carry CR, LF or non-Latin-1 into a header: the failure is removed and the answer goes to /failed', async () => {
    const keys = new Keys(namespace);
    for (const back of ['/failed/x\r\nX-Injected: 1', '/failed/€', '/failed?x=\n']) {
      const before = await redis.llen(keys.failed);
      const id = (await open.client.get('/api/failed?limit=1')).json<{ failures: Array<{ id: string }> }>()
        .failures[0]!.id;
      const answer = await open.client.post('/failed/remove', { id, back });
      expect(answer.status, JSON.stringify(back)).toBe(303);
      expect(answer.headers.get('location')).toBe('/failed');
      expect(answer.headers.get('x-injected')).toBeNull();
      expect(await redis.llen(keys.failed)).toBe(before - 1);
    }
    const kept = await open.client.post('/failed/remove', {
      id: (await open.client.get('/api/failed?limit=1')).json<{ failures: Array<{ id: string }> }>()
        .failures[0]!.id,
      back: '/failed/mail_failed?queue=mail&start=20',
    });
    expect(kept.headers.get('location')).toBe('/failed/mail_failed?queue=mail&start=20');
  });
});
