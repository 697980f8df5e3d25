import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { Admin } from '../api/admin.js';
import { isWrongTypeError, WrongTypeError } from '../api/key-types.js';
import { describeTarget } from '../redis/connection.js';
import { readBody } from './body.js';
import { type App, makeUrl, type Reply, type Request, type UrlFn, type View } from './context.js';
import { errorReply, ForbiddenError, NotFoundError } from './errors.js';
import { type DashboardOptions, type ResolvedDashboardOptions, resolveDashboardOptions } from './options.js';
import { routes } from './routes/index.js';
import { Sampler } from './sampler.js';
import { type AuditLog, stderrAuditLog } from './security/audit.js';
import { describeIdentity, type Identity, presentedCredentials } from './security/auth.js';
import { randomId, Signer, safeEqual } from './security/compare.js';
import { cookie, parseCookies } from './security/cookies.js';
import { setSecurityHeaders } from './security/headers.js';
import { crossOriginRefusal } from './security/origin.js';
import { Sessions } from './security/session.js';
import { type DelayClock, REAL_CLOCK, SignInDelay } from './security/sign-in-delay.js';
import { readAsset } from './static.js';
import { layout } from './views/layout.js';
import { signInPage } from './views/sign-in.js';

/** Random per browser: the CSRF token of every form is an HMAC of it (also on the sign-in form). */
const CSRF_COOKIE = 'resque_session';
/** The signed session of a browser that signed in with the token. */
const AUTH_COOKIE = 'resque_auth';
const NOTICE_COOKIE = 'resque_notice';

/** Express-style continuation for requests outside the dashboard's prefix. */
export type Next = (error?: unknown) => void;

/** A request target split into the path below the mount (still percent-encoded) and its query. */
interface Target {
  path: string;
  query: URLSearchParams;
  /** Where the dashboard is mounted, as the browser sees it: the prefix, or the mount path a framework stripped. */
  mount: string;
}

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
  private readonly sessions: Sessions | undefined;
  private readonly signInDelay: SignInDelay;
  private readonly audit: AuditLog;
  private readonly ownsAdmin: boolean;
  private readonly sampler: Sampler;
  private readonly clock: DelayClock;
  /** The mount of the request each response answers: its links, redirects and cookies stay under it. */
  private readonly mounts = new WeakMap<ServerResponse, string>();

  /** `clock` is for tests: it times the sign-in delay and session expiry. */
  constructor(options: DashboardOptions = {}, clock: DelayClock = REAL_CLOCK) {
    this.options = resolveDashboardOptions(options);
    const auth = this.options.auth;
    const token = auth && 'token' in auth ? auth.token : undefined;
    // Without a secret, token mode keys everything by the token, so restarts and replicas agree with no setup.
    const key = options.secret ?? token;
    this.signer = key === undefined ? Signer.random() : new Signer(Buffer.from(key));
    this.sessions =
      token === undefined
        ? undefined
        : new Sessions(this.signer.derive(`session\n${token}`), this.options.sessionMaxAgeMs);
    this.signInDelay = new SignInDelay(options.signInDelay, clock);
    this.clock = clock;
    this.audit = options.audit ?? stderrAuditLog;
    this.ownsAdmin = options.admin === undefined;
    this.admin =
      options.admin ??
      new Admin({
        redis: options.redis,
        namespace: options.namespace,
        ...(options.shards === undefined ? {} : { shards: options.shards }),
        ...(options.queueShards === undefined ? {} : { queueShards: options.queueShards }),
      });
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
    const target = this.targetOf(req);
    if (target === undefined && next) {
      next();
      return;
    }
    // Set before anything can fail, so every answer (errors included) carries them.
    setSecurityHeaders(res);
    if (target === undefined) {
      this.plain(res, 404, 'Not found\n');
      return;
    }
    this.mounts.set(res, target.mount);
    this.serve(req, res, target).catch((error: unknown) => {
      console.error('resque dashboard:', error);
      if (!res.headersSent) this.plain(res, 500, 'Internal error\n');
      else res.destroy(error as Error);
    });
  };

  async close(): Promise<void> {
    this.sampler.stop();
    if (this.ownsAdmin) await this.admin.close();
  }

  private async serve(req: IncomingMessage, res: ServerResponse, target: Target): Promise<void> {
    const { path } = target;
    if (this.options.authorize && !(await this.options.authorize(req))) {
      return this.plain(res, 403, 'Forbidden\n');
    }
    // The static files hold no data and are the same in every install: served without built-in auth, so the
    // sign-in page is styled (docs/dashboard.md).
    if (path.startsWith('/assets/')) return this.asset(req, res, path.slice('/assets/'.length));
    const method = req.method ?? 'GET';
    const api = path === '/api' || path.startsWith('/api/');
    const cookies = parseCookies(req.headers.cookie);
    const secure = isHttps(req);
    let csrfSession = cookies.get(CSRF_COOKIE);
    if (!csrfSession || !/^[\w-]{16,64}$/.test(csrfSession)) {
      csrfSession = randomId();
      res.appendHeader(
        'Set-Cookie',
        cookie(CSRF_COOKIE, csrfSession, { path: this.cookiePath(res), secure }),
      );
    }
    const csrf = this.signer.sign('csrf', csrfSession);
    const url = makeUrl(target.mount);
    if (method === 'POST') {
      const refusal = crossOriginRefusal(req, this.options.allowedHosts);
      if (refusal) return this.refuse(res, req, api, new ForbiddenError(refusal));
    }
    const identity = await this.authenticate(req, res, { path, method, api, csrf, secure, cookies });
    if (identity === undefined) return;
    const view: View = {
      url,
      csrf,
      readOnly: this.options.readOnly,
      now: Date.now(),
      options: this.options,
      signedIn: identity.kind === 'session',
    };
    let form = new URLSearchParams();
    if (method === 'POST') {
      try {
        form = await readBody(req);
      } catch (error) {
        return this.reply(res, req, errorReply(error, api), view);
      }
      // A Bearer token is no ambient credential (a browser never adds one by itself), so it needs no CSRF token.
      const token = form.get('_csrf') ?? req.headers['x-csrf-token'];
      if (identity.kind !== 'bearer' && (typeof token !== 'string' || !safeEqual(token, csrf))) {
        return this.refuse(res, req, api, new ForbiddenError('Missing or invalid CSRF token'), view);
      }
      if (this.options.readOnly && path !== '/sign-out') {
        return this.refuse(res, req, api, new ForbiddenError('The dashboard is read-only'), view);
      }
    }
    const matched = routes.match(method, path);
    if (!matched) {
      return this.reply(
        res,
        req,
        errorReply(new NotFoundError(`No page at ${path.slice(0, 200)}`), api),
        view,
      );
    }
    if ('allowed' in matched) {
      res.setHeader('Allow', matched.allowed.join(', '));
      return this.plain(res, 405, 'Method not allowed\n');
    }
    const who = describeIdentity(identity);
    const address = req.socket.remoteAddress ?? 'unknown';
    const request: Request = {
      method,
      path,
      query: target.query,
      params: matched.params,
      form,
      api,
      view,
      audit: (action, on, count) => this.audit({ action, target: on, count, who, address }),
    };
    let reply: Reply;
    try {
      reply = await matched.handler(this.app, request);
    } catch (error) {
      reply = errorReply(await this.explain(error), api);
    }
    // A notice is shown once, by the next full page (a live refresh in between leaves it for that page).
    const fragment = req.headers['x-dashboard-fragment'] === '1';
    const notice = fragment ? undefined : cookies.get(NOTICE_COOKIE);
    if (notice && reply.kind === 'page') {
      res.appendHeader(
        'Set-Cookie',
        cookie(NOTICE_COOKIE, '', { path: this.cookiePath(res), maxAgeSeconds: 0 }),
      );
    }
    return this.reply(res, req, reply, view, notice);
  }

  /**
   * Who the request is, or undefined when it was answered here (a challenge, the sign-in page, a sign-in). Presented
   * credentials (Basic, Bearer, the sign-in form) wait out the address's sign-in delay before they are checked.
   */
  private async authenticate(
    req: IncomingMessage,
    res: ServerResponse,
    request: {
      path: string;
      method: string;
      api: boolean;
      csrf: string;
      secure: boolean;
      cookies: Map<string, string>;
    },
  ): Promise<Identity | undefined> {
    const auth = this.options.auth;
    if (!auth) return { kind: 'open' };
    const address = req.socket.remoteAddress ?? 'unknown';
    const presented = presentedCredentials(auth, req);
    if (presented.kind !== 'none') {
      if (await this.signInDelay.attempt(address, () => presented.valid)) {
        return presented.kind === 'basic' ? { kind: 'basic', user: presented.user } : { kind: 'bearer' };
      }
      this.unauthorized(res, request.api, 'The credentials are not valid', request.csrf, true);
      return undefined;
    }
    if ('basic' in auth || !this.sessions) {
      this.unauthorized(res, request.api, 'Authentication required', request.csrf, false);
      return undefined;
    }
    const session = this.sessions.verify(request.cookies.get(AUTH_COOKIE), this.clock.now());
    if (session) return { kind: 'session', session };
    if (request.method === 'POST' && request.path === '/sign-in') {
      await this.signIn(req, res, auth.token, request.csrf, request.secure);
      return undefined;
    }
    this.unauthorized(res, request.api, undefined, request.csrf, false);
    return undefined;
  }

  /** POST /sign-in: the form's CSRF token, then the token itself after the address's delay. */
  private async signIn(
    req: IncomingMessage,
    res: ServerResponse,
    token: string,
    csrf: string,
    secure: boolean,
  ): Promise<void> {
    let form: URLSearchParams;
    try {
      form = await readBody(req);
    } catch {
      return this.unauthorized(res, false, 'The form could not be read; try again', csrf, false, 400);
    }
    if (!safeEqual(form.get('_csrf') ?? '', csrf)) {
      return this.unauthorized(res, false, 'The form expired; try again', csrf, false, 403);
    }
    const address = req.socket.remoteAddress ?? 'unknown';
    const given = form.get('token') ?? '';
    if (!(await this.signInDelay.attempt(address, () => safeEqual(given, token)))) {
      return this.unauthorized(res, false, 'That token is not valid.', csrf, false);
    }
    const { value } = this.sessions!.issue(this.clock.now());
    const maxAgeSeconds = this.options.sessionMaxAgeMs / 1000;
    res.appendHeader(
      'Set-Cookie',
      cookie(AUTH_COOKIE, value, { path: this.cookiePath(res), maxAgeSeconds, secure }),
    );
    res.statusCode = 303;
    res.setHeader('Location', this.urlFor(res)('/overview'));
    res.end();
  }

  /**
   * 401 (or `status`): in basic mode a Basic challenge; in token mode a Bearer challenge and, for pages, the sign-in
   * form. The API answers `{"error":{"code":"UNAUTHORIZED"}}` in both.
   */
  private unauthorized(
    res: ServerResponse,
    api: boolean,
    message: string | undefined,
    csrf: string,
    badCredentials: boolean,
    status = 401,
  ): void {
    const basic = this.options.auth !== undefined && 'basic' in this.options.auth;
    res.statusCode = status;
    res.setHeader(
      'WWW-Authenticate',
      basic
        ? 'Basic realm="resque", charset="UTF-8"'
        : `Bearer realm="resque"${badCredentials ? ', error="invalid_token"' : ''}`,
    );
    if (api) {
      const text = basic ? 'Send basic-auth credentials' : 'Sign in or send a Bearer token';
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.end(JSON.stringify({ error: { code: 'UNAUTHORIZED', message: message ?? text } }));
      return;
    }
    if (basic || badCredentials) {
      this.plain(res, status, `${message ?? 'Authentication required'}\n`);
      return;
    }
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(signInPage(this.urlFor(res), csrf, message).text);
  }

  /**
   * A refused request: before authentication plain text (or the API's JSON), which shows nothing about the
   * installation; after it, an error page.
   */
  private refuse(
    res: ServerResponse,
    req: IncomingMessage,
    api: boolean,
    error: ForbiddenError,
    view?: View,
  ): void {
    if (view) {
      this.reply(res, req, errorReply(error, api), view);
      return;
    }
    if (!api) {
      this.plain(res, error.status, `${error.message}\n`);
      return;
    }
    res.statusCode = error.status;
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.end(JSON.stringify({ error: { code: error.code, message: error.message } }));
  }

  /** Redis answered WRONGTYPE somewhere outside the admin model's own checks: name the keys that hold it. */
  private async explain(error: unknown): Promise<unknown> {
    if (!isWrongTypeError(error)) return error;
    try {
      return new WrongTypeError(await this.admin.keyTypeProblems());
    } catch {
      return new WrongTypeError([]);
    }
  }

  private urlFor(res: ServerResponse): UrlFn {
    return makeUrl(this.mounts.get(res) ?? this.options.prefix);
  }

  private cookiePath(res: ServerResponse): string {
    return (this.mounts.get(res) ?? this.options.prefix) || '/';
  }

  /**
   * The request target below the mount, or undefined when it is not for the dashboard. A framework that strips its
   * mount path from `req.url` keeps it in `req.baseUrl` (Express does): the full path is the two together. With a
   * `prefix`, the dashboard answers the paths under it (mounted at the root, or where the framework mounted it);
   * without one, everything it is given, with links under the framework's mount (the root when there is none). An
   * absolute-form target (`http://host/path`, what proxies send) counts by its path; the query is parsed leniently.
   */
  private targetOf(req: IncomingMessage): Target | undefined {
    let raw = req.url ?? '/';
    const absolute = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(raw);
    if (absolute) raw = raw.slice(absolute[0].length) || '/';
    const q = raw.indexOf('?');
    const rawPath = q < 0 ? raw : raw.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
    const prefix = this.options.prefix;
    const stripped = (req as IncomingMessage & { baseUrl?: unknown }).baseUrl;
    const mounted = typeof stripped === 'string' ? stripped.replace(/\/+$/, '') : '';
    const full = `${mounted}${rawPath === '/' && mounted ? '' : rawPath}`;
    let path: string;
    let mount: string;
    if (prefix === '') {
      path = rawPath;
      mount = mounted;
    } else if (full === prefix || full.startsWith(`${prefix}/`)) {
      path = full.slice(prefix.length);
      mount = prefix;
    } else return undefined;
    if (path === '' || path === '/') return { path: '/', query, mount };
    return { path: path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path, query, mount };
  }

  private reply(res: ServerResponse, req: IncomingMessage, reply: Reply, view: View, notice?: string): void {
    switch (reply.kind) {
      case 'json':
        res.statusCode = reply.status ?? 200;
        res.setHeader('Content-Type', 'application/json; charset=utf-8');
        res.end(JSON.stringify(reply.body));
        return;
      case 'text':
        res.statusCode = reply.status ?? 200;
        res.setHeader('Content-Type', reply.contentType);
        res.end(reply.body);
        return;
      case 'redirect':
        if (reply.notice) {
          res.appendHeader(
            'Set-Cookie',
            cookie(NOTICE_COOKIE, reply.notice.slice(0, 300), { path: this.cookiePath(res) }),
          );
        }
        if (reply.signOut) {
          res.appendHeader(
            'Set-Cookie',
            cookie(AUTH_COOKIE, '', { path: this.cookiePath(res), maxAgeSeconds: 0 }),
          );
        }
        res.statusCode = 303;
        res.setHeader('Location', headerSafe(view.url(reply.to)));
        res.end();
        return;
      case 'page': {
        res.statusCode = reply.status ?? 200;
        res.setHeader('Content-Type', 'text/html; charset=utf-8');
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
    // Set, not assumed: a framework may have set its own status already (Koa starts every response as a 404).
    res.statusCode = 200;
    res.setHeader('Content-Type', asset.type);
    res.end(asset.body);
  }

  private plain(res: ServerResponse, status: number, text: string): void {
    res.statusCode = status;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end(text);
  }
}

/** Served over TLS, directly or (as the proxy says) behind one: session cookies are then `Secure`. */
function isHttps(req: IncomingMessage): boolean {
  if ((req.socket as TLSSocket).encrypted) return true;
  const forwarded = req.headers['x-forwarded-proto'];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
  return first === 'https';
}

/** Percent-encodes what a header value may not hold (CR, LF, controls, non-ASCII), byte by byte. */
function headerSafe(value: string): string {
  return value.replace(/[^\x21-\x7e]/gu, (c) =>
    [...Buffer.from(c)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
}

/** Creates the dashboard handler. */
export function createDashboard(options: DashboardOptions = {}): Dashboard {
  return new Dashboard(options);
}
