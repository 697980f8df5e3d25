// The dashboard in an Express app (npm install express). Express strips the mount path from req.url and keeps it in
// req.baseUrl, and the dashboard links under req.baseUrl: no `prefix` is needed (give one and it must be the whole
// public path, here '/admin/resque').
import express from 'express';
import { createDashboard } from 'resque-ts/web';

const app = express();
const dashboard = createDashboard({ redis: process.env.REDIS_URL });

// Put the application's own authentication in front, as for any admin route:
// app.use('/admin', requireAdmin);
app.use('/admin/resque', dashboard.handle);
app.get('/', (_req, res) => res.send('The application. The dashboard is at /admin/resque/'));

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () =>
  console.log(`http://127.0.0.1:${server.address().port}/admin/resque/`),
);
