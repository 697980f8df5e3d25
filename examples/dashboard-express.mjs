// The dashboard in an Express app (npm install express). Express strips the mount path from req.url and keeps it
// in req.baseUrl; give the same path as `prefix` so the dashboard's links point back under it.
import express from 'express';
import { createDashboard } from 'resque-ts/web';

const app = express();
const dashboard = createDashboard({ redis: process.env.REDIS_URL, prefix: '/admin/resque' });

// Put the application's own authentication in front, as for any admin route:
// app.use('/admin', requireAdmin);
app.use('/admin/resque', dashboard.handle);
app.get('/', (_req, res) => res.send('The application. The dashboard is at /admin/resque/'));

app.listen(3000, '127.0.0.1', () => console.log('http://127.0.0.1:3000/admin/resque/'));
