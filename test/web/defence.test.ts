// Defence in depth: cross-origin POSTs refused by Origin / Sec-Fetch-Site, Bearer only with a token, signed stateless
// sessions (expiry, sign-out, revoked by a token change, kept across a restart), a CSRF token on the sign-in form, a
// per-address delay after failed sign-ins, refusal of empty credentials, an audit line per destructive action.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authOf } from '../../src/cli/commands/web.js';
import { Keys } from '../../src/protocol/keys.js';
import { resolveDashboardOptions } from '../../src/web/options.js';
import type { AuditEntry } from '../../src/web/security/audit.js';
import { keysUnder, rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import { type Served, serve, WebClient } from './client.js';
import { seed } from './fixture.js';

const namespace = uniqueNamespace('web-defence');
const keys = new Keys(namespace);
const redis = rawRedis();

beforeAll(() => seed(redis, sharedRedisUrl(), namespace));
afterAll(() => redis.disconnect());

/** A clock the test moves: sleeps are recorded and advance it at once. */
function fakeClock(start = Date.now()) {
  const clock = {
    at: start,
    slept: [] as number[],
    now: () => clock.at,
    sleep: async (ms: number) => {
      clock.slept.push(ms);
      clock.at += ms;
    },
  };
  return clock;
}

const csrfOf = (text: string) => /name="_csrf" value="([^"]+)"/.exec(text)![1]!;

async function signIn(client: WebClient, token: string) {
  const csrf = csrfOf((await client.get('/overview')).text);
  return client.post('/sign-in', { token, _csrf: csrf });
}

describe('cross-origin POSTs', () => {
  let web: Served;
  beforeAll(async () => {
    web = await serve({ redis: sharedRedisUrl(), namespace, allowedOrigins: ['https://ops.example.com'] });
  });
  afterAll(() => web.close());

  it('refuses a POST whose Origin names another host, even with a valid session and CSRF token', async () => {
    await redis.sadd(keys.queues, 'origin-a');
    for (const origin of ['http://evil.example', 'https://evil.example:443', 'not a url']) {
      const answer = await web.client.post('/queues/origin-a/remove', {}, { origin });
      expect(answer.status, origin).toBe(403);
      expect(answer.headers.get('content-security-policy')).toBeTruthy();
    }
    expect(await redis.sismember(keys.queues, 'origin-a')).toBe(1);
    const cross = await web.client.post('/queues/origin-a/remove', {}, { 'sec-fetch-site': 'cross-site' });
    expect(cross.status).toBe(403);
    const sameSite = await web.client.post('/queues/origin-a/remove', {}, { 'sec-fetch-site': 'same-site' });
    expect(sameSite.status).toBe(403);
    // `Origin: null` (a page with no-referrer, a sandboxed frame) defers to Sec-Fetch-Site.
    const opaque = await web.client.post(
      '/queues/origin-a/remove',
      {},
      { origin: 'null', 'sec-fetch-site': 'cross-site' },
    );
    expect(opaque.status).toBe(403);
    expect(await redis.sismember(keys.queues, 'origin-a')).toBe(1);
  });

  it('accepts its own host whatever the scheme (a TLS proxy), the allowed origins, and requests without either header', async () => {
    const host = new URL(web.base).host;
    await redis.sadd(keys.queues, 'origin-b', 'origin-c', 'origin-d');
    const own = await web.client.post(
      '/queues/origin-b/remove',
      {},
      { origin: `https://${host}`, 'sec-fetch-site': 'same-origin' },
    );
    expect(own.status).toBe(303);
    const ownForm = await web.client.post(
      '/queues/origin-b/remove',
      {},
      { origin: 'null', 'sec-fetch-site': 'same-origin' },
    );
    expect(ownForm.status).toBe(404);
    const allowed = await web.client.post(
      '/queues/origin-c/remove',
      {},
      { origin: 'https://ops.example.com' },
    );
    expect(allowed.status).toBe(303);
    const curl = await web.client.post('/queues/origin-d/remove');
    expect(curl.status).toBe(303);
    expect(await redis.smismember(keys.queues, 'origin-b', 'origin-c', 'origin-d')).toEqual([0, 0, 0]);
  });

  it('refuses a bad allowedOrigins entry', () => {
    expect(() => resolveDashboardOptions({ allowedOrigins: ['::'] })).toThrow(/allowedOrigins/);
  });
});

describe('Bearer tokens', () => {
  it('skip the CSRF check only when a token is configured (in open mode the header means nothing)', async () => {
    const web = await serve({ redis: sharedRedisUrl(), namespace });
    try {
      await redis.sadd(keys.queues, 'bearer-a');
      const fresh = new WebClient(web.base);
      const answer = await fresh.send('POST', '/api/queues/bearer-a/remove', '', {
        authorization: 'Bearer junk',
      });
      expect(answer.status).toBe(403);
      expect(answer.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
      expect(await redis.sismember(keys.queues, 'bearer-a')).toBe(1);
    } finally {
      await web.close();
    }
  });

  it('are refused in basic mode', async () => {
    const web = await serve({
      redis: sharedRedisUrl(),
      namespace,
      auth: { basic: { username: 'ops', password: 'pw' } },
    });
    try {
      expect((await web.client.get('/api/queues', { authorization: 'Bearer pw' })).status).toBe(401);
    } finally {
      await web.close();
    }
  });
});

describe('sessions', () => {
  it('are signed, different on every sign-in, HttpOnly, SameSite=Strict, with a Max-Age, Secure over HTTPS', async () => {
    const web = await serve({
      redis: sharedRedisUrl(),
      namespace,
      auth: { token: 'tok' },
      sessionMaxAgeMs: 3_600_000,
    });
    try {
      const first = await signIn(new WebClient(web.base), 'tok');
      const second = await signIn(new WebClient(web.base), 'tok');
      const cookieOf = (answer: typeof first) =>
        answer.headers.getSetCookie().find((c) => c.startsWith('resque_auth='))!;
      expect(first.status).toBe(303);
      expect(cookieOf(first)).toMatch(/; HttpOnly; SameSite=Strict; Max-Age=3600$/);
      expect(cookieOf(first).split(';')[0]).not.toBe(cookieOf(second).split(';')[0]);
      const client = new WebClient(web.base);
      const csrf = csrfOf((await client.get('/overview')).text);
      const https = await client.post(
        '/sign-in',
        { token: 'tok', _csrf: csrf },
        { 'x-forwarded-proto': 'https' },
      );
      expect(cookieOf(https)).toMatch(/; Secure$/);
      // A forged or altered cookie is not a session.
      const forged = new WebClient(web.base);
      // One character changed well inside the value (base64's last character may carry only padding bits, and
      // replacing it with the character it already is changes nothing).
      const genuine = cookieOf(first).split(';')[0]!.split('=')[1]!;
      const at = genuine.length - 5;
      const altered = `${genuine.slice(0, at)}${genuine[at] === 'A' ? 'B' : 'A'}${genuine.slice(at + 1)}`;
      forged.cookies.set('resque_auth', altered);
      expect((await forged.get('/overview')).status).toBe(401);
    } finally {
      await web.close();
    }
  });

  it('need the sign-in form CSRF token, and a same-origin form', async () => {
    const web = await serve({ redis: sharedRedisUrl(), namespace, auth: { token: 'tok' } });
    try {
      const client = new WebClient(web.base);
      await client.get('/overview');
      expect((await client.post('/sign-in', { token: 'tok', _csrf: '' })).status).toBe(403);
      expect((await client.post('/sign-in', { token: 'tok', _csrf: 'forged' })).status).toBe(403);
      const csrf = csrfOf((await client.get('/overview')).text);
      const crossSite = await client.post(
        '/sign-in',
        { token: 'tok', _csrf: csrf },
        { origin: 'http://evil.example' },
      );
      expect(crossSite.status).toBe(403);
      expect(client.cookies.has('resque_auth')).toBe(false);
    } finally {
      await web.close();
    }
  });

  it('expire, end with sign-out, survive a restart, and are all revoked by a token change', async () => {
    const clock = fakeClock();
    const options = { redis: sharedRedisUrl(), namespace, auth: { token: 'tok' }, sessionMaxAgeMs: 60_000 };
    const web = await serve(options, undefined, clock);
    const client = new WebClient(web.base);
    let session: string;
    try {
      expect((await signIn(client, 'tok')).status).toBe(303);
      session = client.cookies.get('resque_auth')!;
      const page = await client.get('/overview');
      expect(page.status).toBe(200);
      expect(page.text).toContain('Sign out');
      clock.at += 61_000;
      expect((await client.get('/overview')).status).toBe(401);
      clock.at -= 61_000;
      const out = await client.post('/sign-out', { _csrf: csrfOf(page.text) });
      expect(out.status).toBe(303);
      expect(out.headers.getSetCookie().some((c) => /^resque_auth=; .*Max-Age=0/.test(c))).toBe(true);
      expect(client.cookies.has('resque_auth')).toBe(false);
      expect((await client.get('/overview')).status).toBe(401);
    } finally {
      await web.close();
    }
    const restarted = await serve(options, undefined, clock);
    try {
      const kept = new WebClient(restarted.base);
      kept.cookies.set('resque_auth', session);
      expect((await kept.get('/overview')).status).toBe(200);
    } finally {
      await restarted.close();
    }
    const rotated = await serve({ ...options, auth: { token: 'new-token' } }, undefined, clock);
    try {
      const revoked = new WebClient(rotated.base);
      revoked.cookies.set('resque_auth', session);
      expect((await revoked.get('/overview')).status).toBe(401);
    } finally {
      await rotated.close();
    }
  });

  it('write nothing to Redis in read-only mode', async () => {
    const before = await keysUnder(redis, namespace);
    const web = await serve({ redis: sharedRedisUrl(), namespace, auth: { token: 'tok' }, readOnly: true });
    try {
      const client = new WebClient(web.base);
      expect((await signIn(client, 'tok')).status).toBe(303);
      expect((await client.get('/overview')).status).toBe(200);
      expect(await keysUnder(redis, namespace)).toEqual(before);
    } finally {
      await web.close();
    }
  });
});

describe('failed sign-ins', () => {
  it('wait a growing, capped delay per address, forgotten after a success', async () => {
    const clock = fakeClock();
    const web = await serve(
      {
        redis: sharedRedisUrl(),
        namespace,
        auth: { token: 'tok' },
        signInDelay: { baseMs: 100, maxMs: 1000 },
      },
      undefined,
      clock,
    );
    try {
      const client = new WebClient(web.base);
      for (let i = 0; i < 7; i++) {
        expect((await signIn(client, 'wrong')).status).toBe(401);
      }
      expect(clock.slept).toEqual([100, 200, 400, 800, 1000, 1000]);
      const bearer = await client.get('/api/queues', { authorization: 'Bearer wrong' });
      expect(bearer.status).toBe(401);
      expect(clock.slept.at(-1)).toBe(1000);
      expect((await signIn(client, 'tok')).status).toBe(303);
      clock.slept.length = 0;
      expect((await signIn(new WebClient(web.base), 'wrong')).status).toBe(401);
      expect(clock.slept).toEqual([]);
    } finally {
      await web.close();
    }
  });

  it('count wrong basic-auth credentials too', async () => {
    const clock = fakeClock();
    const web = await serve(
      { redis: sharedRedisUrl(), namespace, auth: { basic: { username: 'ops', password: 'pw' } } },
      undefined,
      clock,
    );
    try {
      const wrong = { authorization: `Basic ${Buffer.from('ops:nope').toString('base64')}` };
      for (let i = 0; i < 3; i++) expect((await web.client.get('/overview', wrong)).status).toBe(401);
      expect(clock.slept).toEqual([250, 500]);
    } finally {
      await web.close();
    }
  });
});

describe('credentials that would let anyone in', () => {
  it('are refused by the options and by resque web', () => {
    expect(() => resolveDashboardOptions({ auth: { token: '' } })).toThrow(/token must not be empty/);
    expect(() => resolveDashboardOptions({ auth: { token: '  ' } })).toThrow(/token must not be empty/);
    expect(() => resolveDashboardOptions({ auth: { basic: { username: 'u', password: '' } } })).toThrow(
      /password/,
    );
    expect(() => resolveDashboardOptions({ auth: { basic: { username: '', password: 'p' } } })).toThrow(
      /username/,
    );
    expect(() => authOf('', undefined)).toThrow(/must not be empty/);
    expect(() => authOf(undefined, 'u:')).toThrow(/both non-empty/);
    expect(() => authOf(undefined, ':p')).toThrow(/both non-empty/);
    expect(() => authOf(undefined, 'nocolon')).toThrow(/both non-empty/);
    expect(authOf(undefined, 'u:p:q')).toEqual({ basic: { username: 'u', password: 'p:q' } });
  });
});

describe('the audit log', () => {
  it('gets one entry per destructive action: who, what, how many', async () => {
    const entries: AuditEntry[] = [];
    const web = await serve({
      redis: sharedRedisUrl(),
      namespace,
      auth: { basic: { username: 'ops', password: 'pw' } },
      audit: (entry) => entries.push(entry),
    });
    const auth = { authorization: `Basic ${Buffer.from('ops:pw').toString('base64')}` };
    try {
      const csrf = (await web.client.get('/api/csrf', auth)).json<{ token: string }>().token;
      const post = (path: string, fields: Record<string, string> = {}) =>
        web.client.post(path, { _csrf: csrf, ...fields }, auth);
      const id = (await web.client.get('/api/failed?limit=1', auth)).json<{
        failures: Array<{ id: string }>;
      }>().failures[0]!.id;
      expect((await post('/failed/remove', { id })).status).toBe(303);
      expect((await post('/queues/mail/remove-matching', { class: 'Cleanup' })).status).toBe(303);
      expect((await post('/failed/bulk/clear', { class: 'Export' })).status).toBe(303);
      expect(entries.map(({ who, action, count }) => ({ who, action, count }))).toEqual([
        { who: 'user "ops"', action: 'remove failure', count: 1 },
        { who: 'user "ops"', action: 'remove matching jobs', count: 1 },
        { who: 'user "ops"', action: 'clear failures', count: 10 },
      ]);
      expect(entries[0]!.target).toBe(id);
      expect(entries[1]!.target).toBe('mail class=Cleanup');
      expect(entries[2]!.target).toBe('className=Export');
      expect(entries[0]!.address).toMatch(/127\.0\.0\.1/);
    } finally {
      await web.close();
    }
  });
});
