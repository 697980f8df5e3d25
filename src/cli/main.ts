#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { RedisConnectionError, RedisNotInstalledError, ResqueError } from '../errors/index.js';
import { VERSION } from '../version.js';
import { type Command, type CommandIO, EXIT, UsageError } from './command.js';
import { COMMANDS } from './commands/index.js';
import { provideRedis } from './private-redis.js';

function help(io: CommandIO): void {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  io.stdout.write(
    `resque ${VERSION}\n\nUsage: resque <command> [options]\n\nCommands:\n${COMMANDS.map(
      (c) => `  ${c.name.padEnd(width)}  ${c.summary}`,
    ).join('\n')}\n\nRun "resque <command> --help" for a command's options.\n`,
  );
}

export async function main(argv: string[], io: CommandIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    help(io);
    return name ? EXIT.ok : EXIT.usage;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${VERSION}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr.write(`resque: unknown command "${name}"\n`);
    help(io);
    return EXIT.usage;
  }
  return runCommand(command, rest, io);
}

async function runCommand(command: Command, argv: string[], io: CommandIO): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(`Usage: resque ${command.name} ${command.usage}\n\n${command.summary}\n`);
    return EXIT.ok;
  }
  try {
    const parsed = parseArgs({
      args: argv,
      options: command.options ?? {},
      allowPositionals: true,
      strict: true,
    });
    const redis = await provideRedis(command, parsed.values as Record<string, unknown>, io);
    try {
      return await command.run({ values: redis.values, positionals: parsed.positionals }, redis.io);
    } finally {
      await redis.release();
    }
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(
        `resque ${command.name}: ${(error as Error).message}\nUsage: resque ${command.name} ${command.usage}\n`,
      );
      return EXIT.usage;
    }
    if (error instanceof RedisConnectionError || error instanceof RedisNotInstalledError) {
      io.stderr.write(`resque ${command.name}: ${error.message}\n`);
      return EXIT.unavailable;
    }
    if (error instanceof ResqueError) {
      io.stderr.write(`resque ${command.name}: ${error.message}\n`);
      return error.code === 'INVALID_ARGUMENTS' ||
        error.code.startsWith('INVALID_') ||
        error.code === 'CONFIG_INVALID'
        ? EXIT.usage
        : EXIT.failure;
    }
    throw error;
  }
}

const io: CommandIO = { stdout: process.stdout, stderr: process.stderr, env: process.env };
const argv = process.argv.slice(2);
main(argv, io).then(
  (code) => {
    process.exitCode = code;
    if (COMMANDS.find((c) => c.name === argv[0])?.exitWhenDone) process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(
      `resque: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = EXIT.failure;
  },
);
