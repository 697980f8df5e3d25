// resque-ts/web: the dashboard, as a node request handler to mount anywhere, or on its own server.
export { createDashboard, Dashboard, type Next } from './dashboard.js';
export { DASHBOARD_DEFAULTS, type DashboardAuth, type DashboardOptions } from './options.js';
export { type DashboardServer, type DashboardServerOptions, startDashboardServer } from './server.js';
