#!/usr/bin/env node
import { COMMANDS } from './commands/index.js';
import { main } from './program.js';

const argv = process.argv.slice(2);
main(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env, stdin: process.stdin }).then(
  (code) => {
    process.exitCode = code;
    if (COMMANDS.find((c) => c.name === argv[0])?.exitWhenDone) process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(
      `resque: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
