// The dashboard in a Fastify app (npm install fastify): hand the raw request and response to the dashboard.
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
app.addHook('onClose', () => dashboard.close());

await app.listen({ port: 3000, host: '127.0.0.1' });
console.log('http://127.0.0.1:3000/resque/');
