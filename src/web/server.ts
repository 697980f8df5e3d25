import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDashboard, type Dashboard } from './dashboard.js';
import type { DashboardOptions } from './options.js';

export interface DashboardServerOptions extends DashboardOptions {
  /** Port to listen on; 0 picks a free one. Default 5678 (resque-web's). */
  port?: number;
  /** Address to bind. Default 127.0.0.1: only this machine, unless told otherwise. */
  host?: string;
}

export interface DashboardServer {
  readonly dashboard: Dashboard;
  readonly server: Server;
  /** `http://host:port/prefix/` */
  readonly url: string;
  close(): Promise<void>;
}

/** The dashboard on its own HTTP server (what `resque web` runs). */
export async function startDashboardServer(options: DashboardServerOptions = {}): Promise<DashboardServer> {
  const { port = 5678, host = '127.0.0.1', ...rest } = options;
  const dashboard = createDashboard(rest);
  const server = createServer(dashboard.handle);
  server.keepAliveTimeout = 5000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await dashboard.close();
    throw error;
  }
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    dashboard,
    server,
    url: `http://${shownHost}:${address.port}${dashboard.options.prefix}/`,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await dashboard.close();
    },
  };
}
