// The dashboard mounted in Express, Fastify, Hono and Koa, each on a real server: at the root, under a path with
// `prefix`, and (Express, which strips its mount path) under a path without one. Every link a page shows, every
// redirect and every cookie must stay under the mount, and a form posted through the framework must work.
import { spawn } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type HttpBindings, serve } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import express from 'express';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { Hono } from 'hono';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Resque } from '../../src/index.js';
import { Dashboard } from '../../src/web/index.js';
import { sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';

const namespace = uniqueNamespace('mounts');

beforeAll(async () => {
  const resque = new Resque({ redis: sharedRedisUrl(), namespace });
  await resque.enqueueTo('mail', 'Mailer', 1, 'a@example.com');
  await resque.enqueueTo('mail', 'Mailer', 2, 'b@example.com');
  await resque.close();
});

interface Running {
  origin: string;
  close(): Promise<void>;
}

type Mount = (dashboard: Dashboard, at: string) => Promise<Running>;

async function listening(server: Server): Promise<string> {
  if (!server.listening) await new Promise<void>((resolve) => server.once('listening', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closing(server: Server): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
}

const appRoute = 'The application';

const MOUNTS: Record<string, Mount> = {
  async express(dashboard, at) {
    const app = express();
    if (at === '') app.use(dashboard.handle);
    else if (at === '/admin/resque') {
      // Nested: the router's mount path and the dashboard's add up in req.baseUrl.
      const admin = express.Router();
      admin.use('/resque', dashboard.handle);
      app.use('/admin', admin);
    } else app.use(at, dashboard.handle);
    app.get('/', (_req, res) => void res.send(appRoute));
    const server = app.listen(0, '127.0.0.1');
    return { origin: await listening(server), close: closing(server) };
  },
  async fastify(dashboard, at) {
    const app = Fastify();
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_request, _payload, done) => done(null));
    const handle = (request: FastifyRequest, reply: FastifyReply) => {
      reply.hijack();
      dashboard.handle(request.raw, reply.raw);
    };
    if (at === '') app.all('/*', handle);
    else {
      app.all(at, handle);
      app.all(`${at}/*`, handle);
      app.get('/', async () => appRoute);
    }
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { origin: await listening(app.server), close: () => app.close() };
  },
  async hono(dashboard, at) {
    const app = new Hono<{ Bindings: HttpBindings }>();
    const handle = (c: { env: HttpBindings }) => {
      dashboard.handle(c.env.incoming, c.env.outgoing);
      return RESPONSE_ALREADY_SENT;
    };
    if (at === '') app.all('*', handle);
    else {
      app.all(at, handle);
      app.all(`${at}/*`, handle);
      app.get('/', (c) => c.text(appRoute));
    }
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
    return { origin: await listening(server), close: closing(server) };
  },
  async koa(dashboard, at) {
    const app = new Koa();
    app.use(async (ctx, next) => {
      if (at !== '' && ctx.path !== at && !ctx.path.startsWith(`${at}/`)) return next();
      ctx.respond = false;
      dashboard.handle(ctx.req, ctx.res);
    });
    app.use((ctx) => {
      ctx.body = appRoute;
    });
    const server = app.listen(0, '127.0.0.1');
    return { origin: await listening(server), close: closing(server) };
  },
};

/** A browser's view: cookies by name, kept from every answer. */
class Browser {
  private readonly cookies = new Map<string, string>();
  readonly cookiePaths = new Set<string>();

  constructor(private readonly origin: string) {}

  async fetch(path: string, init: { method?: string; form?: URLSearchParams } = {}): Promise<Response> {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(`${this.origin}${path}`, {
      method: init.method ?? 'GET',
      redirect: 'manual',
      body: init.form?.toString(),
      headers: {
        ...(cookie ? { cookie } : {}),
        ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded', origin: this.origin } : {}),
      },
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
      this.cookiePaths.add(/;\s*Path=([^;]*)/i.exec(line)?.[1] ?? '');
    }
    return response;
  }
}

/** `href`, `src` and `action` values of a page, entities decoded. */
function linksOf(html: string): { gets: string[]; actions: string[] } {
  const decode = (value: string) =>
    value
      .replace(/&amp;/g, '&')
      .replace(/&#39;/g, "'")
      .replace(/&quot;/g, '"');
  const gets = [...html.matchAll(/\s(?:href|src)="([^"]*)"/g)].map((m) => decode(m[1]!));
  const actions = [...html.matchAll(/\saction="([^"]*)"/g)].map((m) => decode(m[1]!));
  return { gets, actions };
}

/**
 * Visits the mount's root, follows its redirect and then every link of the pages reached (breadth first, up to
 * `limit` pages); every link, redirect and cookie must stay under the mount, and every page answer.
 */
async function crawl(
  browser: Browser,
  at: string,
  limit = 30,
): Promise<{ visited: string[]; html: Map<string, string> }> {
  const root = await browser.fetch(`${at}/`);
  expect(root.status).toBe(303);
  expect(root.headers.get('location')).toBe(`${at}/overview`);
  if (at !== '') {
    const bare = await browser.fetch(at);
    expect(bare.headers.get('location')).toBe(`${at}/overview`);
  }
  const queue = [`${at}/overview`];
  const visited: string[] = [];
  const html = new Map<string, string>();
  while (queue.length > 0 && visited.length < limit) {
    const path = queue.shift()!;
    if (visited.includes(path)) continue;
    visited.push(path);
    const answer = await browser.fetch(path);
    if (answer.status === 303) {
      const location = answer.headers.get('location')!;
      expect(location.startsWith(`${at}/`), `${path} redirects to ${location}`).toBe(true);
      queue.push(location);
      continue;
    }
    expect(answer.status, path).toBe(200);
    if (!(answer.headers.get('content-type') ?? '').startsWith('text/html')) continue;
    const text = await answer.text();
    html.set(path, text);
    const { gets, actions } = linksOf(text);
    for (const link of [...gets, ...actions]) {
      if (/^(https?:|mailto:|#)/.test(link)) continue;
      expect(link.startsWith(`${at}/`), `${path} links to ${link}`).toBe(true);
    }
    for (const link of gets) if (!link.startsWith('#') && !/^https?:/.test(link)) queue.push(link);
  }
  expect(visited.length).toBeGreaterThan(5);
  for (const path of browser.cookiePaths) expect(path).toBe(at || '/');
  return { visited, html };
}

/** Posts the "remove matching jobs" form, matching nothing: a redirect back to the queue, with a notice cookie. */
async function postThrough(browser: Browser, at: string): Promise<void> {
  const { token: csrf } = (await (await browser.fetch(`${at}/api/csrf`)).json()) as { token: string };
  const form = new URLSearchParams({ _csrf: csrf, class: 'Nothing::Like::This' });
  const answer = await browser.fetch(`${at}/queues/mail/remove-matching`, { method: 'POST', form });
  expect(answer.status).toBe(303);
  expect(answer.headers.get('location')).toBe(`${at}/queues/mail`);
}

const CASES: Array<[framework: string, at: string, prefix: boolean]> = [
  ['express', '', false],
  ['express', '/resque', true],
  ['express', '/resque', false],
  ['express', '/admin/resque', false],
  ['express', '/admin/resque', true],
  ['fastify', '', false],
  ['fastify', '/resque', true],
  ['hono', '', false],
  ['hono', '/resque', true],
  ['koa', '', false],
  ['koa', '/resque', true],
];

describe('the dashboard mounted in a framework', () => {
  const running: Array<{ server: Running; dashboard: Dashboard }> = [];
  afterAll(async () => {
    for (const { server, dashboard } of running) {
      await server.close();
      await dashboard.close();
    }
  });

  it.each(CASES)(
    '%s at "%s" (prefix given: %s): links, redirects, cookies and forms stay under the mount',
    async (framework, at, prefix) => {
      const dashboard = new Dashboard({
        redis: sharedRedisUrl(),
        namespace,
        sampleIntervalMs: 0,
        audit: () => {},
        ...(prefix ? { prefix: at } : {}),
      });
      const server = await MOUNTS[framework]!(dashboard, at);
      running.push({ server, dashboard });
      const browser = new Browser(server.origin);
      const { visited } = await crawl(browser, at);
      expect(visited).toContain(`${at}/queues/mail`);
      await postThrough(browser, at);
      if (at !== '') expect(await (await fetch(`${server.origin}/`)).text()).toBe(appRoute);
    },
  );
});

describe('the examples in examples/, run as they are', () => {
  it.each(['express', 'fastify', 'hono', 'koa'])('dashboard-%s.mjs', async (framework) => {
    const example = fileURLToPath(new URL(`../../examples/dashboard-${framework}.mjs`, import.meta.url));
    const child = spawn(process.execPath, [example], {
      env: { ...process.env, PORT: '0', REDIS_URL: sharedRedisUrl(), RESQUE_NAMESPACE: namespace },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
      });
      const url = new URL(await waitFor(() => /^(http:\/\/\S+)\n/m.exec(out)?.[1], 15_000, 'the URL'));
      const at = url.pathname.replace(/\/$/, '');
      const browser = new Browser(url.origin);
      await crawl(browser, at, 12);
      await postThrough(browser, at);
      expect(await (await fetch(`${url.origin}/`)).text()).toMatch(/^The application/);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
