// The dashboard in a Hono app on Node (npm install hono @hono/node-server): Hono's node adapter exposes the raw
// request and response as c.env.incoming / c.env.outgoing. Hono leaves the path as it came, so `prefix` tells the
// dashboard which part is its mount.
import { serve } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { Hono } from 'hono';
import { createDashboard } from 'resque-ts/web';

const dashboard = createDashboard({ redis: process.env.REDIS_URL, prefix: '/resque' });
const app = new Hono();

const mount = (c) => {
  dashboard.handle(c.env.incoming, c.env.outgoing);
  return RESPONSE_ALREADY_SENT;
};
app.all('/resque', mount);
app.all('/resque/*', mount);
app.get('/', (c) => c.text('The application. The dashboard is at /resque/'));

const server = serve(
  { fetch: app.fetch, port: Number(process.env.PORT ?? 3000), hostname: '127.0.0.1' },
  (info) => console.log(`http://127.0.0.1:${info.port}/resque/`),
);
process.on('SIGTERM', () => server.close(() => void dashboard.close()));
