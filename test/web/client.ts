import type { Server } from 'node:http';
import { createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import type { Redis } from 'ioredis';
import { Keys } from '../../src/protocol/keys.js';
import { encodeWorkerStatus } from '../../src/protocol/worker-status.js';
import { Dashboard, type DashboardOptions } from '../../src/web/index.js';
import type { DelayClock } from '../../src/web/security/sign-in-delay.js';

/** A dashboard on a real in-process HTTP server (port 0), and a client that keeps its cookies like a browser. */
export interface Served {
  dashboard: Dashboard;
  base: string;
  client: WebClient;
  close(): Promise<void>;
}

export async function serve(
  options: DashboardOptions,
  mount?: (server: Server, d: Dashboard) => void,
  clock?: DelayClock,
): Promise<Served> {
  const dashboard = new Dashboard({ sampleIntervalMs: 0, audit: () => {}, ...options }, clock);
  const server = createServer();
  if (mount) mount(server, dashboard);
  else server.on('request', dashboard.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    dashboard,
    base,
    client: new WebClient(base),
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await dashboard.close();
    },
  };
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: <T = Record<string, unknown>>() => T;
}

export class WebClient {
  readonly cookies = new Map<string, string>();

  constructor(readonly base: string) {}

  async get(path: string, headers: Record<string, string> = {}): Promise<Answer> {
    return this.send('GET', path, undefined, headers);
  }

  /** POSTs a form; `_csrf` is filled from the session unless given (pass `_csrf: ''` to send none). */
  async post(
    path: string,
    fields: Record<string, string | number> = {},
    headers: Record<string, string> = {},
  ) {
    const form = new URLSearchParams();
    const csrf = '_csrf' in fields ? String(fields['_csrf']) : await this.csrf();
    if (csrf !== '') form.set('_csrf', csrf);
    for (const [k, v] of Object.entries(fields)) if (k !== '_csrf') form.set(k, String(v));
    return this.send('POST', path, form.toString(), {
      'content-type': 'application/x-www-form-urlencoded',
      ...headers,
    });
  }

  async csrf(): Promise<string> {
    const answer = await this.get('/api/csrf');
    return answer.json<{ token: string }>().token;
  }

  async send(
    method: string,
    path: string,
    body?: string,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await fetch(`${this.base}${path}`, {
      method,
      body,
      redirect: 'manual',
      headers: { ...(cookie ? { cookie } : {}), ...headers },
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (/Max-Age=0/.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
  }
}

/** Registers a worker the way Ruby Resque does (workers set, started, heartbeat, counters, current job). */
export async function registerWorker(
  redis: Redis,
  namespace: string,
  id: string,
  options: {
    job?: { queue: string; payload: string; runAt: string };
    heartbeat?: string;
    started?: string;
    processed?: number;
    failed?: number;
  } = {},
): Promise<void> {
  const keys = new Keys(namespace);
  const pipeline = redis
    .pipeline()
    .sadd(keys.workers, id)
    .set(keys.workerStarted(id), options.started ?? '2026-11-27 10:00:00 +0000');
  if (options.heartbeat) pipeline.hset(keys.heartbeats, id, options.heartbeat);
  if (options.job)
    pipeline.set(
      keys.worker(id),
      encodeWorkerStatus(options.job.queue, options.job.runAt, options.job.payload),
    );
  if (options.processed) pipeline.set(keys.processedBy(id), options.processed);
  if (options.failed) pipeline.set(keys.failedBy(id), options.failed);
  await pipeline.exec();
}

/** ISO time `ms` before now. */
export function before(ms: number): string {
  return new Date(Date.now() - ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** Sends raw bytes (a request fetch would refuse to send) and returns the status and headers of the answer. */
export function rawRequest(
  base: string,
  request: string,
): Promise<{ status: number; headers: Map<string, string>; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(request));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = '', body = ''] = text.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = new Map<string, string>();
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body });
    });
  });
}
