import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HttpAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/** GET paths and what answers them. */
export type Routes = Readonly<Record<string, () => Promise<HttpAnswer> | HttpAnswer>>;

/** A small HTTP server for probes and scrapes: GET (and HEAD) on the given paths, nothing else. */
export class ProbeServer {
  private readonly server: Server;

  constructor(routes: Routes) {
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
      const answer = (a: HttpAnswer) => {
        res.writeHead(a.status, { 'Content-Type': a.contentType, 'Cache-Control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : a.body);
      };
      if (!route) return answer(text(404, `Not found; try ${Object.keys(routes).join(', ')}\n`));
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('Allow', 'GET, HEAD');
        return answer(text(405, 'Method not allowed\n'));
      }
      Promise.resolve()
        .then(route)
        .then(answer, (error: unknown) => answer(text(500, `${(error as Error).message}\n`)));
    });
    // Probes come at a steady pace; an idle keep-alive socket must not hold the process open at exit.
    this.server.keepAliveTimeout = 1000;
  }

  /** Listens; rejects when the port is taken. Resolves the port (useful with 0 in tests). */
  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        this.server.unref();
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

export function text(status: number, body: string): HttpAnswer {
  return { status, contentType: 'text/plain; charset=utf-8', body };
}

export function json(status: number, body: unknown): HttpAnswer {
  return { status, contentType: 'application/json; charset=utf-8', body: `${JSON.stringify(body)}\n` };
}
