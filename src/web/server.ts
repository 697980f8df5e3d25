import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createDashboard, type Dashboard } from './dashboard.js';
import type { DashboardOptions } from './options.js';
import { rawErrorResponse } from './security/headers.js';

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
  server.on('clientError', answerClientError);
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

/**
 * Requests Node refuses before any handler runs (headers over its limit, a malformed request line) get its usual
 * status, with the dashboard's security headers. Only this standalone server can do so: a dashboard mounted in
 * another server leaves these answers to that server's own `clientError` handling.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const response =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? rawErrorResponse(431, 'Request Header Fields Too Large')
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? rawErrorResponse(408, 'Request Timeout')
        : rawErrorResponse(400, 'Bad Request');
  socket.end(response);
}
