import type { Admin } from '../../api/admin.js';
import type { DashboardAuth } from '../../web/options.js';
import { startDashboardServer } from '../../web/server.js';
import {
  type Command,
  type CommandIO,
  EXIT,
  type OptionHelp,
  REDIS_OPTIONS,
  SHARD_OPTIONS,
  UsageError,
} from '../command.js';
import { announceRedis } from '../private-redis.js';
import { adminOptions, stringOption } from './support.js';

export const WEB_OPTIONS = {
  port: { type: 'string', short: 'p' },
  host: { type: 'string', short: 'o' },
  prefix: { type: 'string', short: 'a' },
  'read-only': { type: 'boolean' },
  token: { type: 'string' },
  basic: { type: 'string' },
  seconds: { type: 'string' },
} as const;

export const WEB_OPTION_HELP: Readonly<Record<string, OptionHelp>> = {
  port: {
    value: 'port',
    description: 'Port to listen on (0: any free port).',
    default: '5678',
    env: 'RESQUE_WEB_PORT',
  },
  host: {
    value: 'host',
    description: 'Address to listen on; other than loopback, use --token or --basic.',
    default: '127.0.0.1',
  },
  prefix: {
    value: '/path',
    description: 'Path the dashboard is served under, starting with "/".',
    default: '/ (the root)',
  },
  'read-only': { description: 'Show everything, change nothing: no retry, remove or clear.' },
  token: {
    value: 'token',
    description: 'Ask for this token (Authorization: Bearer, or a sign-in form).',
    env: 'RESQUE_WEB_TOKEN',
  },
  basic: {
    value: 'user:password',
    description: 'Ask for HTTP basic authentication with these credentials.',
    env: 'RESQUE_WEB_BASIC',
  },
  seconds: { value: 'n', description: 'Stop after n seconds instead of at Ctrl-C.' },
};

/**
 * `resque web`: the dashboard on its own server, port 5678 and 127.0.0.1 unless told otherwise, until Ctrl-C (or
 * `--seconds n`). Auth: `--token T` (or RESQUE_WEB_TOKEN), `--basic user:password` (or RESQUE_WEB_BASIC).
 */
export const webCommand: Command = {
  name: 'web',
  noArguments: true,
  summary: 'Serve the dashboard (resque-web and more) on http://127.0.0.1:5678/ until Ctrl-C.',
  usage: '[options]',
  exitWhenDone: true,
  options: {
    ...REDIS_OPTIONS,
    ...SHARD_OPTIONS,
    ...WEB_OPTIONS,
  },
  optionHelp: WEB_OPTION_HELP,
  async run({ values }, io) {
    const settings = webSettings(values, io.env);
    const served = await startDashboardServer({ ...settings, ...adminOptions(values) });
    const { admin } = served.dashboard;
    let redis: string;
    try {
      redis = await announceRedis(admin.config, io);
    } catch (error) {
      await served.close();
      throw error;
    }
    io.stdout.write(
      `resque web: dashboard at ${served.url} on Redis ${redis}, namespace "${admin.config.namespace}"` +
        `${settings.readOnly ? ', read-only' : ''}\n`,
    );
    warnIfExposed(settings, io);
    await warnIfUnsafe(admin, io);
    await untilStopped(settings.seconds);
    await served.close();
    return EXIT.ok;
  },
};

export interface WebSettings {
  port: number;
  host: string;
  prefix: string | undefined;
  readOnly: boolean;
  auth: DashboardAuth | undefined;
  seconds: number | undefined;
}

export function webSettings(values: Record<string, unknown>, env: NodeJS.ProcessEnv): WebSettings {
  const port = Number(stringOption(values, 'port') ?? env['RESQUE_WEB_PORT'] ?? 5678);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--port must be a port number, got ${String(values['port'])}`);
  }
  const secondsText = stringOption(values, 'seconds');
  const seconds = secondsText === undefined ? undefined : Number(secondsText);
  if (seconds !== undefined && (!Number.isFinite(seconds) || seconds <= 0)) {
    throw new UsageError(`--seconds must be a positive number, got ${secondsText}`);
  }
  const prefix = stringOption(values, 'prefix');
  if (prefix !== undefined && prefix !== '' && !prefix.startsWith('/')) {
    throw new UsageError(
      `--prefix must start with "/", got ${JSON.stringify(prefix)} (e.g. --prefix /${prefix})`,
    );
  }
  return {
    port,
    host: stringOption(values, 'host') ?? '127.0.0.1',
    prefix,
    readOnly: values['read-only'] === true,
    auth: authOf(
      stringOption(values, 'token') ?? env['RESQUE_WEB_TOKEN'],
      stringOption(values, 'basic') ?? env['RESQUE_WEB_BASIC'],
    ),
    seconds,
  };
}

/**
 * Auth from --token / --basic (or their variables). A value that is given but empty is refused rather than taken to
 * mean "no auth": `--token=` or `--basic user:` would otherwise serve the dashboard open.
 */
export function authOf(token: string | undefined, basic: string | undefined): DashboardAuth | undefined {
  if (token !== undefined && basic !== undefined) throw new UsageError('give --token or --basic, not both');
  if (token !== undefined) {
    if (token.trim() === '') throw new UsageError('--token (RESQUE_WEB_TOKEN) must not be empty');
    return { token };
  }
  if (basic !== undefined) {
    const colon = basic.indexOf(':');
    const username = colon < 0 ? '' : basic.slice(0, colon);
    const password = colon < 0 ? '' : basic.slice(colon + 1);
    if (username.trim() === '' || password === '') {
      throw new UsageError('--basic (RESQUE_WEB_BASIC) takes user:password, both non-empty');
    }
    return { basic: { username, password } };
  }
  return undefined;
}

function warnIfExposed(settings: WebSettings, io: CommandIO): void {
  const loopback =
    settings.host === 'localhost' || settings.host.startsWith('127.') || settings.host === '::1';
  if (!loopback && !settings.auth) {
    io.stderr.write(
      `resque web: listening on ${settings.host} without authentication; anyone who can reach it can retry and remove jobs (use --token or --read-only)\n`,
    );
  }
}

/** Names the Redis settings that can lose jobs (also on the dashboard's Stats → Redis page). */
async function warnIfUnsafe(admin: Admin, io: CommandIO): Promise<void> {
  const safety = await admin.redisSafety().catch(() => undefined);
  for (const risk of safety?.risks ?? []) io.stderr.write(`resque web: warning: ${risk.message}\n`);
}

/** Resolves on SIGINT/SIGTERM, or after `seconds`. */
export function untilStopped(seconds: number | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    const timer = seconds === undefined ? undefined : setTimeout(done, seconds * 1000);
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}
