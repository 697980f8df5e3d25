// The dashboard mounted under /resque in a plain node:http server, next to the application's own routes.
// Run: node --import ./test/harness/register-ts.mjs examples/dashboard-node-http.ts (in an application, import
// from 'resque-ts/web').
import { createServer } from 'node:http';
import { createDashboard } from '../src/web/index.js';

const dashboard = createDashboard({
  redis: process.env['REDIS_URL'],
  prefix: '/resque',
  // Let the application decide who may see it (its own session, an internal network check…).
  authorize: (req) => req.socket.remoteAddress === '127.0.0.1' || req.socket.remoteAddress === '::1',
});

const server = createServer((req, res) => {
  // Requests under /resque go to the dashboard; everything else falls through to the application.
  dashboard.handle(req, res, () => {
    res.setHeader('Content-Type', 'text/plain');
    res.end('The application. The dashboard is at /resque/\n');
  });
});

server.listen(3000, '127.0.0.1', () => console.log('http://127.0.0.1:3000/resque/'));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    server.close();
    void dashboard.close();
  });
}
