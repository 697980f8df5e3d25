#!/usr/bin/env node
import { loadCommand } from './commands/index.js';
import { main } from './program.js';

const argv = process.argv.slice(2);
main(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env, stdin: process.stdin }).then(
  async (code) => {
    process.exitCode = code;
    if (argv[0] !== undefined && (await loadCommand(argv[0]))?.exitWhenDone) process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(
      `resque: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
