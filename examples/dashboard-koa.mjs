// The dashboard in a Koa app (npm install koa). Koa leaves the path as it came, so `prefix` tells the dashboard which
// part is its mount; `ctx.respond = false` hands the response over to it.
import Koa from 'koa';
import { createDashboard } from 'resque-ts/web';

const dashboard = createDashboard({ redis: process.env.REDIS_URL, prefix: '/resque' });
const app = new Koa();

app.use(async (ctx, next) => {
  if (ctx.path !== '/resque' && !ctx.path.startsWith('/resque/')) return next();
  ctx.respond = false;
  dashboard.handle(ctx.req, ctx.res);
});
app.use((ctx) => {
  ctx.body = 'The application. The dashboard is at /resque/';
});

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () =>
  console.log(`http://127.0.0.1:${server.address().port}/resque/`),
);
