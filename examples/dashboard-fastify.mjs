// The dashboard in a Fastify app (npm install fastify): hand the raw request and response to the dashboard. Fastify
// leaves the path as it came, so `prefix` tells the dashboard which part is its mount.
import Fastify from 'fastify';
import { createDashboard } from 'resque-ts/web';

const app = Fastify();
const dashboard = createDashboard({ redis: process.env.REDIS_URL, prefix: '/resque' });

// Fastify must not parse the body: the dashboard reads its own POSTs.
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', (_request, _payload, done) => done(null));

const mount = (request, reply) => {
  reply.hijack();
  dashboard.handle(request.raw, reply.raw);
};
app.all('/resque', mount);
app.all('/resque/*', mount);
app.get('/', async () => 'The application. The dashboard is at /resque/');
app.addHook('onClose', () => dashboard.close());

await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
console.log(`http://127.0.0.1:${app.server.address().port}/resque/`);
