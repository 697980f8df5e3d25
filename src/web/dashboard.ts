import type { IncomingMessage, ServerResponse } from 'node:http';
import { Admin } from '../api/admin.js';
import { describeTarget } from '../redis/connection.js';
import { readBody } from './body.js';
import { type App, makeUrl, type Reply, type Request, type View } from './context.js';
import { errorReply, ForbiddenError, NotFoundError } from './errors.js';
import { type DashboardOptions, type ResolvedDashboardOptions, resolveDashboardOptions } from './options.js';
import { routes } from './routes/index.js';
import { Sampler } from './sampler.js';
import {
  AUTH_COOKIE,
  checkAuth,
  cookie,
  isBearer,
  newSessionId,
  parseCookies,
  SECURITY_HEADERS,
  SESSION_COOKIE,
  Signer,
  safeEqual,
  setHeaders,
} from './security.js';
import { readAsset } from './static.js';
import { layout } from './views/layout.js';
import { signInPage } from './views/sign-in.js';

const NOTICE_COOKIE = 'resque_notice';

/** Express-style continuation for requests outside the dashboard's prefix. */
export type Next = (error?: unknown) => void;

/**
 * The dashboard as a plain node request handler: mount it in node:http, Express, Fastify or Hono (see examples/).
 * It reads and acts only through the admin model; call `close()` to stop its sampler and (if it opened one) its
 * Redis connection.
 */
export class Dashboard {
  readonly admin: Admin;
  readonly options: ResolvedDashboardOptions;
  private readonly app: App;
  private readonly signer: Signer;
  private readonly ownsAdmin: boolean;
  private readonly sampler: Sampler;

  constructor(options: DashboardOptions = {}) {
    this.options = resolveDashboardOptions(options);
    this.ownsAdmin = options.admin === undefined;
    this.admin = options.admin ?? new Admin({ redis: options.redis, namespace: options.namespace });
    this.signer = new Signer(options.secret);
    this.app = {
      admin: this.admin,
      options: this.options,
      namespace: this.admin.config.namespace,
      redisLabel: describeTarget(this.admin.config.redis),
    };
    this.sampler = new Sampler(this.admin, this.options.sampleIntervalMs);
    this.sampler.start();
  }

  /** The node handler: `(req, res)`, or `(req, res, next)` as middleware (next() for paths outside the prefix). */
  readonly handle = (req: IncomingMessage, res: ServerResponse, next?: Next): void => {
    this.serve(req, res, next).catch((error: unknown) => {
      if (!res.headersSent) {
        res.statusCode = 500;
        res.setHeader('Content-Type', 'text/plain; charset=utf-8');
        res.end('Internal error\n');
      } else {
        res.destroy(error as Error);
      }
    });
  };

  async close(): Promise<void> {
    this.sampler.stop();
    if (this.ownsAdmin) await this.admin.close();
  }

  private async serve(req: IncomingMessage, res: ServerResponse, next: Next | undefined): Promise<void> {
    const path = this.pathOf(req);
    if (path === undefined) {
      if (next) return next();
      res.statusCode = 404;
      res.end('Not found\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    setHeaders(res, SECURITY_HEADERS);
    if (this.options.authorize && !(await this.options.authorize(req))) {
      return this.plain(res, 403, 'Forbidden\n');
    }
    if (path.startsWith('/assets/')) return this.asset(req, res, path.slice('/assets/'.length));
    const cookies = parseCookies(req.headers.cookie);
    const method = req.method ?? 'GET';
    const auth = checkAuth(this.options.auth, req, cookies, this.signer);
    if (auth === 'challenge') {
      res.setHeader('WWW-Authenticate', 'Basic realm="resque", charset="UTF-8"');
      return this.plain(res, 401, 'Authentication required\n');
    }
    if (auth === 'sign-in') return this.signIn(req, res, method, path);
    let session = cookies.get(SESSION_COOKIE);
    if (!session || session.length < 16) {
      session = newSessionId();
      res.appendHeader('Set-Cookie', cookie(SESSION_COOKIE, session, this.options.prefix));
    }
    const csrf = this.signer.sign('csrf', session);
    const api = path === '/api' || path.startsWith('/api/');
    const view: View = {
      url: makeUrl(this.options.prefix),
      csrf,
      readOnly: this.options.readOnly,
      now: Date.now(),
      options: this.options,
    };
    let form = new URLSearchParams();
    if (method === 'POST') {
      try {
        form = await readBody(req);
      } catch (error) {
        return this.reply(res, req, errorReply(error, api), view, undefined);
      }
      const token = form.get('_csrf') ?? req.headers['x-csrf-token'];
      if (!isBearer(req) && (typeof token !== 'string' || !safeEqual(token, csrf))) {
        return this.reply(
          res,
          req,
          errorReply(new ForbiddenError('Missing or invalid CSRF token'), api),
          view,
        );
      }
      if (this.options.readOnly) {
        return this.reply(res, req, errorReply(new ForbiddenError('The dashboard is read-only'), api), view);
      }
    }
    const matched = routes.match(method, path);
    if (!matched) return this.reply(res, req, errorReply(new NotFoundError(`No page at ${path}`), api), view);
    if ('allowed' in matched) {
      res.setHeader('Allow', matched.allowed.join(', '));
      return this.plain(res, 405, 'Method not allowed\n');
    }
    const request: Request = {
      method,
      path,
      query: url.searchParams,
      params: matched.params,
      form,
      api,
      view,
    };
    let reply: Reply;
    try {
      reply = await matched.handler(this.app, request);
    } catch (error) {
      reply = errorReply(error, api);
    }
    // A notice is shown once, by the next full page (a live refresh in between leaves it for that page).
    const fragment = req.headers['x-dashboard-fragment'] === '1';
    const notice = fragment ? undefined : cookies.get(NOTICE_COOKIE);
    if (notice && reply.kind === 'page') {
      res.appendHeader('Set-Cookie', cookie(NOTICE_COOKIE, '', this.options.prefix, 0));
    }
    return this.reply(res, req, reply, view, notice);
  }

  /** The path below the prefix, or undefined when the request is not for the dashboard. */
  private pathOf(req: IncomingMessage): string | undefined {
    const raw = (req.url ?? '/').split('?')[0]!;
    const prefix = this.options.prefix;
    // Express strips its mount path from req.url and keeps it in req.baseUrl.
    const mounted = (req as IncomingMessage & { baseUrl?: string }).baseUrl;
    let path: string;
    if (prefix === '' || mounted === prefix) path = raw;
    else if (raw === prefix || raw.startsWith(`${prefix}/`)) path = raw.slice(prefix.length);
    else return undefined;
    if (path === '' || path === '/') return '/';
    return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  }

  private reply(res: ServerResponse, req: IncomingMessage, reply: Reply, view: View, notice?: string): void {
    switch (reply.kind) {
      case 'json':
        res.statusCode = reply.status ?? 200;
        res.setHeader('Content-Type', 'application/json; charset=utf-8');
        res.setHeader('Cache-Control', 'no-store');
        res.end(JSON.stringify(reply.body));
        return;
      case 'text':
        res.statusCode = reply.status ?? 200;
        res.setHeader('Content-Type', reply.contentType);
        res.setHeader('Cache-Control', 'no-store');
        res.end(reply.body);
        return;
      case 'redirect':
        if (reply.notice) {
          res.appendHeader(
            'Set-Cookie',
            cookie(NOTICE_COOKIE, reply.notice.slice(0, 300), this.options.prefix),
          );
        }
        res.statusCode = 303;
        res.setHeader('Location', view.url(reply.to));
        res.end();
        return;
      case 'page': {
        res.statusCode = reply.status ?? 200;
        res.setHeader('Content-Type', 'text/html; charset=utf-8');
        res.setHeader('Cache-Control', 'no-store');
        if (req.headers['x-dashboard-fragment'] === '1') {
          res.setHeader('X-Dashboard-Live', reply.live ? '1' : '0');
          res.end(reply.body.text);
          return;
        }
        const page = layout(view, {
          title: reply.title,
          tab: reply.tab,
          body: reply.body,
          live: reply.live === true,
          notice,
          namespace: this.app.namespace,
          redisLabel: this.app.redisLabel,
        });
        res.end(page.text);
      }
    }
  }

  private asset(req: IncomingMessage, res: ServerResponse, name: string): void {
    const asset = readAsset(name);
    if (!asset) {
      this.plain(res, 404, 'Not found\n');
      return;
    }
    res.setHeader('ETag', asset.etag);
    res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    if (req.headers['if-none-match'] === asset.etag) {
      res.statusCode = 304;
      res.end();
      return;
    }
    res.setHeader('Content-Type', asset.type);
    res.end(asset.body);
  }

  private async signIn(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    path: string,
  ): Promise<void> {
    const auth = this.options.auth;
    const url = makeUrl(this.options.prefix);
    if (method === 'POST' && path === '/sign-in' && auth && 'token' in auth) {
      const form = await readBody(req).catch(() => new URLSearchParams());
      if (safeEqual(form.get('token') ?? '', auth.token)) {
        res.appendHeader(
          'Set-Cookie',
          cookie(AUTH_COOKIE, this.signer.sign('auth', auth.token), this.options.prefix),
        );
        res.statusCode = 303;
        res.setHeader('Location', url('/overview'));
        res.end();
        return;
      }
      res.statusCode = 401;
    } else {
      res.statusCode = 401;
    }
    if (path === '/api' || path.startsWith('/api/')) {
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.end(JSON.stringify({ error: { code: 'UNAUTHORIZED', message: 'Sign in or send a Bearer token' } }));
      return;
    }
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.end(signInPage(url, method === 'POST').text);
  }

  private plain(res: ServerResponse, status: number, text: string): void {
    res.statusCode = status;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end(text);
  }
}

/** Creates the dashboard handler. */
export function createDashboard(options: DashboardOptions = {}): Dashboard {
  return new Dashboard(options);
}
