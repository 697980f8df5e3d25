import { parseArgs } from 'node:util';
import { VERSION } from '../version.js';
import { type Command, type CommandIO, EXIT, UsageError } from './command.js';
import { COMMAND_NAMES, loadCommand, loadCommands } from './commands/index.js';
import { commandHelp, overviewHelp } from './help.js';
import { provideRedis } from './private-redis.js';
import { reportError } from './report.js';

const HELP_FLAGS = new Set(['--help', '-h']);
const VERSION_WORDS = new Set(['version', '--version', '-v', '-V']);

/** Runs `resque <argv…>` and returns its exit code; every error is reported on `io.stderr` (JSON with --json). */
export async function main(argv: readonly string[], io: CommandIO): Promise<number> {
  const [name, ...rest] = argv;
  const json = argv.includes('--json');
  if (name === undefined) {
    io.stderr.write(overviewHelp(await loadCommands()));
    return EXIT.usage;
  }
  if (HELP_FLAGS.has(name)) {
    io.stdout.write(overviewHelp(await loadCommands()));
    return EXIT.ok;
  }
  if (VERSION_WORDS.has(name)) {
    io.stdout.write(json ? `${JSON.stringify({ version: VERSION })}\n` : `${VERSION}\n`);
    return EXIT.ok;
  }
  if (name === 'help') return help(rest, json, io);
  const command = await loadCommand(name);
  if (!command) return reportError('', unknownCommand(name), json, io);
  return runCommand(command, rest, io);
}

/** `resque help [command]`. */
async function help(args: readonly string[], json: boolean, io: CommandIO): Promise<number> {
  const names = args.filter((arg) => arg !== '--json');
  if (names.length === 0) {
    io.stdout.write(overviewHelp(await loadCommands()));
    return EXIT.ok;
  }
  const command = await loadCommand(names[0]!);
  if (!command || names.length > 1) {
    const error = command
      ? new UsageError(`help takes one command, got ${names.length}`)
      : unknownCommand(names[0]!);
    return reportError('', error, json, io);
  }
  io.stdout.write(commandHelp(command));
  return EXIT.ok;
}

function unknownCommand(name: string): UsageError {
  return new UsageError(
    `unknown command ${JSON.stringify(name)}; the commands are ${COMMAND_NAMES.join(', ')}`,
  );
}

async function runCommand(command: Command, argv: readonly string[], io: CommandIO): Promise<number> {
  const beforeSeparator = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
  if (beforeSeparator.some((arg) => HELP_FLAGS.has(arg))) {
    io.stdout.write(commandHelp(command));
    return EXIT.ok;
  }
  const json = beforeSeparator.includes('--json');
  try {
    const parsed = parseArgs({
      args: [...argv],
      options: command.options ?? {},
      allowPositionals: true,
      strict: true,
    });
    const values = parsed.values as Record<string, unknown>;
    if (command.noArguments && parsed.positionals.length > 0)
      throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[0])}`);
    command.check?.({ values, positionals: parsed.positionals });
    const redis = await provideRedis(command, values, io);
    try {
      return await command.run({ values: redis.values, positionals: parsed.positionals }, redis.io);
    } catch (error) {
      throw await asCommandRedisError(error, redis.values, redis.io.env);
    } finally {
      await redis.release();
    }
  } catch (error) {
    return reportError(command.name, error, json, io);
  }
}

/**
 * A connection failure that reached the command straight from ioredis (ioredis's "Reached the max retries per
 * request limit" hides the cause) as the RedisConnectionError the library raises: the address and the real cause.
 */
async function asCommandRedisError(
  error: unknown,
  values: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
): Promise<unknown> {
  // Loaded here, not at start-up: `resque help` and `version` need no Redis client.
  const [{ DEFAULT_REDIS_URL }, { connectionAdvice }, { asConnectionError }] = await Promise.all([
    import('../config/options.js'),
    import('../config/redis-source.js'),
    import('../redis/connection.js'),
  ]);
  const named = typeof values['redis'] === 'string' ? values['redis'] : env['REDIS_URL'];
  return asConnectionError(
    error,
    named || DEFAULT_REDIS_URL,
    connectionAdvice(named ? undefined : 'default'),
  );
}
