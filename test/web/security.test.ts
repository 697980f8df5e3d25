// Hostile input is text, headers are strict, auth (basic, token, the host's own hook) guards every page, and the
// handler mounts under a prefix in a host server, passing other paths on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import { type Served, serve, WebClient } from './client.js';
import { HOSTILE, seed } from './fixture.js';

const namespace = uniqueNamespace('web-security');
const redis = rawRedis();
let web: Served;

beforeAll(async () => {
  await seed(redis, sharedRedisUrl(), namespace);
  web = await serve({ redis: sharedRedisUrl(), namespace });
});
afterAll(async () => {
  await web.close();
  redis.disconnect();
});

describe('hostile input', () => {
  it('escapes job arguments, errors, class and queue names on every page that shows them', async () => {
    const failure = (await web.client.get('/api/failed?queue=hostile')).json<{
      failures: Array<{ id: string }>;
    }>().failures[0]!;
    for (const path of [
      '/queues/hostile',
      '/failed',
      `/failure/${encodeURIComponent(failure.id)}`,
      '/stats/keys/queue%3Ahostile',
    ]) {
      const { text } = await web.client.get(path);
      expect(text, path).not.toContain('<script>window');
      expect(text, path).not.toContain('<img src=x');
      expect(text, path).not.toContain('<svg onload');
      expect(text, path).toContain('&lt;script&gt;window.__pwned=1&lt;/script&gt;');
      expect(text, path).not.toMatch(/href="javascript:/i);
      // The only script is the static one.
      expect(text.match(/<script/g), path).toHaveLength(1);
    }
  });

  it('keeps hostile text intact in the JSON API', async () => {
    const { page } = (await web.client.get('/api/queues/hostile')).json<{
      page: { jobs: Array<{ payload: { args: string[] } }> };
    }>();
    expect(page.jobs[0]!.payload.args).toEqual(HOSTILE);
  });
});

describe('headers', () => {
  it('sends a strict CSP and the other security headers on pages, API and errors', async () => {
    for (const path of ['/overview', '/api/overview', '/nope', '/assets/app.js']) {
      const { headers } = await web.client.get(path);
      const csp = headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("default-src 'none'");
      expect(csp, path).toContain("script-src 'self'");
      expect(csp, path).not.toContain('unsafe-inline');
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(headers.get('x-content-type-options')).toBe('nosniff');
      expect(headers.get('x-frame-options')).toBe('DENY');
      expect(headers.get('referrer-policy')).toBe('no-referrer');
    }
    const page = await web.client.get('/overview');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.text).not.toMatch(/<script>|style="|\son[a-z]+="/);
  });

  it('serves the static files with a content hash and caching, and sets an HttpOnly SameSite session cookie', async () => {
    const page = await new WebClient(web.base).get('/overview');
    const js = /src="(\/assets\/app\.js\?v=[0-9a-f]+)"/.exec(page.text)![1]!;
    const asset = await web.client.get(js);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    const etag = asset.headers.get('etag')!;
    expect((await web.client.get(js, { 'if-none-match': etag })).status).toBe(304);
    expect((await web.client.get('/assets/../package.json')).status).toBe(404);
    const fresh = await fetch(`${web.base}/overview`);
    expect(fresh.headers.getSetCookie()[0]).toMatch(/resque_session=.*HttpOnly; SameSite=Strict/);
  });
});

describe('authentication', () => {
  it('basic auth: challenges (JSON for the API), then lets the right user in', async () => {
    const guarded = await serve({
      redis: sharedRedisUrl(),
      namespace,
      auth: { basic: { username: 'ops', password: 's3cret' } },
    });
    try {
      const denied = await guarded.client.get('/overview');
      expect(denied.status).toBe(401);
      expect(denied.headers.get('www-authenticate')).toMatch(/^Basic/);
      const wrong = `Basic ${Buffer.from('ops:nope').toString('base64')}`;
      expect((await guarded.client.get('/overview', { authorization: wrong })).status).toBe(401);
      const api = await guarded.client.get('/api/overview');
      expect(api.status).toBe(401);
      expect(api.headers.get('www-authenticate')).toMatch(/^Basic/);
      expect(api.headers.get('cache-control')).toBe('no-store');
      expect(api.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
      const right = `Basic ${Buffer.from('ops:s3cret').toString('base64')}`;
      expect((await guarded.client.get('/overview', { authorization: right })).status).toBe(200);
    } finally {
      await guarded.close();
    }
  });

  it('token auth: a sign-in form (with its CSRF token) for browsers, a Bearer header for scripts', async () => {
    const guarded = await serve({ redis: sharedRedisUrl(), namespace, auth: { token: 'tok-123' } });
    try {
      const signIn = await guarded.client.get('/overview');
      expect(signIn.status).toBe(401);
      expect(signIn.text).toContain('Access token');
      expect(signIn.headers.get('www-authenticate')).toMatch(/^Bearer realm="resque"$/);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(signIn.text)![1]!;
      expect((await guarded.client.get('/api/overview')).json()).toMatchObject({
        error: { code: 'UNAUTHORIZED' },
      });
      const bad = await guarded.client.post('/sign-in', { token: 'nope', _csrf: csrf });
      expect(bad.status).toBe(401);
      expect(bad.text).toContain('That token is not valid.');
      const good = await guarded.client.post('/sign-in', { token: 'tok-123', _csrf: csrf });
      expect(good.status).toBe(303);
      expect((await guarded.client.get('/overview')).status).toBe(200);
      const script = new WebClient(guarded.base);
      const bearer = { authorization: 'Bearer tok-123' };
      expect((await script.get('/api/queues', bearer)).status).toBe(200);
      const wrong = await script.get('/api/queues', { authorization: 'Bearer wrong' });
      expect(wrong.status).toBe(401);
      expect(wrong.headers.get('www-authenticate')).toBe('Bearer realm="resque", error="invalid_token"');
      expect(wrong.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
      const removed = await script.send('POST', '/api/queues/empty/remove', '', bearer);
      expect(removed.status).toBe(200);
    } finally {
      await guarded.close();
    }
  });

  it("runs the host application's own check first", async () => {
    const guarded = await serve({
      redis: sharedRedisUrl(),
      namespace,
      authorize: (req) => req.headers['x-app-user'] === 'admin',
    });
    try {
      expect((await guarded.client.get('/overview')).status).toBe(403);
      expect((await guarded.client.get('/overview', { 'x-app-user': 'admin' })).status).toBe(200);
    } finally {
      await guarded.close();
    }
  });
});

describe('mounting', () => {
  it('serves under a prefix with prefixed links, and passes other paths to next()', async () => {
    const mounted = await serve(
      { redis: sharedRedisUrl(), namespace, prefix: '/admin/resque' },
      (server, dashboard) => {
        server.on('request', (req, res) =>
          dashboard.handle(req, res, () => {
            res.end('the host app');
          }),
        );
      },
    );
    try {
      const root = await mounted.client.get('/admin/resque');
      expect(root.status).toBe(303);
      expect(root.headers.get('location')).toBe('/admin/resque/overview');
      const page = await mounted.client.get('/admin/resque/queues');
      expect(page.text).toContain('href="/admin/resque/queues/mail"');
      expect(page.text).toContain('src="/admin/resque/assets/app.js');
      expect((await mounted.client.get('/elsewhere')).text).toBe('the host app');
      expect((await mounted.client.get('/admin/resquex')).text).toBe('the host app');
    } finally {
      await mounted.close();
    }
  });

  it('works behind Express-style mounting (mount path stripped into req.baseUrl)', async () => {
    const mounted = await serve(
      { redis: sharedRedisUrl(), namespace, prefix: '/jobs' },
      (server, dashboard) => {
        server.on('request', (req, res) => {
          if (!req.url?.startsWith('/jobs')) return res.end('host');
          Object.assign(req, { baseUrl: '/jobs', url: req.url.slice('/jobs'.length) || '/' });
          dashboard.handle(req, res);
        });
      },
    );
    try {
      const page = await mounted.client.get('/jobs/workers');
      expect(page.status).toBe(200);
      expect(page.text).toContain('href="/jobs/workers/web-1"');
    } finally {
      await mounted.close();
    }
  });
});
