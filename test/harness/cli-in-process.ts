import { PassThrough, Writable } from 'node:stream';
import type { CommandIO } from '../../src/cli/command.js';
import { main } from '../../src/cli/program.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Text typed at a terminal: a stdin that says it is a TTY. */
export function terminalInput(text: string): NodeJS.ReadableStream & { isTTY: boolean } {
  const input = Object.assign(new PassThrough(), { isTTY: true });
  input.end(text);
  return input;
}

/**
 * `resque <args>` in this process, as the binary runs it (src/cli/program.ts), with its output captured: much faster
 * than a child process, for the many command lines whose output and exit code are checked.
 */
export async function resqueInProcess(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; stdin?: CommandIO['stdin'] } = {},
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        append(chunk.toString());
        done();
      },
    });
  const code = await main(args, {
    stdout: sink((text) => {
      stdout += text;
    }),
    stderr: sink((text) => {
      stderr += text;
    }),
    env: options.env ?? process.env,
    stdin: options.stdin,
  });
  return { code, stdout, stderr };
}
