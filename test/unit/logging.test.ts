// The logger: pino underneath, JSON lines for machines and Resque's text formats for people, levels from the
// options and Resque's environment variables, and an application's own pino logger taken as it is.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';
import { createLogger, enabled, toLogger } from '../../src/logging/logger.js';
import { isPinoLike } from '../../src/logging/pino.js';
import { formatTextLine } from '../../src/logging/text-format.js';

/** A stream that keeps what is written; `isTTY` makes it look like a terminal. */
function capture(isTTY = false): Writable & { text: () => string; isTTY: boolean } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  }) as Writable & { text: () => string; isTTY: boolean };
  stream.text = () => chunks.join('');
  stream.isTTY = isTTY;
  return stream;
}

const lines = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('createLogger', () => {
  it('writes JSON lines with the level by name, the message and the fields when the output is no terminal', () => {
    const out = capture();
    const logger = createLogger('info', out);
    logger.info('Job finished', { class: 'Archive', queue: 'file_serve', durationMs: 12.5 });
    logger.debug('not at info');
    logger.warn('Redis persists nothing');
    const [finished, warned, ...rest] = lines(out.text());
    expect(rest).toEqual([]);
    expect(finished).toMatchObject({
      level: 'info',
      msg: 'Job finished',
      class: 'Archive',
      queue: 'file_serve',
      durationMs: 12.5,
      pid: process.pid,
    });
    expect(typeof finished!['time']).toBe('string');
    expect(warned).toMatchObject({ level: 'warn', msg: 'Redis persists nothing' });
  });

  it("writes Resque's formats to a terminal, with the fields as key=value", () => {
    const verbose = capture(true);
    createLogger('info', verbose).info('Job failed', { class: 'A', error: 'no "such" row', attempt: 2 });
    expect(verbose.text()).toBe('*** Job failed class=A error="no \\"such\\" row" attempt=2\n');
    const veryVerbose = capture(true);
    createLogger('debug', veryVerbose).debug('Job started', { queue: 'q' });
    expect(veryVerbose.text()).toMatch(
      new RegExp(
        `^\\*\\* \\[\\d\\d:\\d\\d:\\d\\d \\d{4}-\\d\\d-\\d\\d\\] ${process.pid}: Job started queue=q\\n$`,
      ),
    );
  });

  it('follows the format it is given whatever the output is', () => {
    const terminal = capture(true);
    createLogger('warn', terminal, 'json').warn('w');
    expect(lines(terminal.text())[0]).toMatchObject({ level: 'warn', msg: 'w' });
    const pipe = capture();
    createLogger('warn', pipe, 'text').error('e');
    expect(pipe.text()).toBe('*** e\n');
  });

  it('says which levels are on, and writes nothing when silent', () => {
    const out = capture();
    const logger = createLogger('warn', out);
    expect([enabled(logger, 'error'), enabled(logger, 'warn'), enabled(logger, 'info')]).toEqual([
      true,
      true,
      false,
    ]);
    const silent = createLogger('silent', out);
    silent.error('nothing');
    expect(enabled(silent, 'error')).toBe(false);
    expect(out.text()).toBe('');
  });
});

describe('toLogger', () => {
  it("adapts an application's pino logger: its level rules and the fields come first, as pino takes them", () => {
    const out = capture();
    const app = pino({ level: 'debug', base: { service: 'billing' } }, out);
    expect(isPinoLike(app)).toBe(true);
    const logger = toLogger(app);
    logger.debug('Job started', { queue: 'q' });
    logger.info('plain');
    expect(enabled(logger, 'debug')).toBe(true);
    const [started, plain] = lines(out.text());
    expect(started).toMatchObject({ level: 20, msg: 'Job started', queue: 'q', service: 'billing' });
    expect(plain).toMatchObject({ level: 30, msg: 'plain' });
  });

  it('keeps a plain logger as it is, calling it with the message first', () => {
    const seen: unknown[][] = [];
    const plain = {
      error: (...args: unknown[]) => void seen.push(args),
      warn: (...args: unknown[]) => void seen.push(args),
      info: (...args: unknown[]) => void seen.push(args),
      debug: (...args: unknown[]) => void seen.push(args),
    };
    expect(isPinoLike(plain)).toBe(false);
    const logger = toLogger(plain);
    expect(logger).toBe(plain);
    expect(enabled(logger, 'debug')).toBe(true);
    logger.warn('Job failed', { class: 'A' });
    expect(seen).toEqual([['Job failed', { class: 'A' }]]);
  });
});

describe('formatTextLine', () => {
  it('leaves out what every line carries and quotes values that need it', () => {
    const line = formatTextLine(
      {
        level: 'info',
        time: '2026-01-01T00:00:00.000Z',
        pid: 1,
        hostname: 'h',
        msg: 'm',
        a: 'x=y',
        b: null,
        c: [1],
      },
      false,
    );
    expect(line).toBe('*** m a="x=y" b=null c=[1]\n');
  });
});

describe('log level from the environment', () => {
  it('takes RESQUE_LOG_LEVEL before VVERBOSE and VERBOSE, and an option before both', () => {
    expect(resolveConfig({}, {}).logLevel).toBe('warn');
    expect(resolveConfig({}, { VERBOSE: '1' }).logLevel).toBe('info');
    expect(resolveConfig({}, { LOGGING: '1' }).logLevel).toBe('info');
    expect(resolveConfig({}, { VVERBOSE: '1', VERBOSE: '1' }).logLevel).toBe('debug');
    expect(resolveConfig({}, { RESQUE_LOG_LEVEL: 'Error', VVERBOSE: '1' }).logLevel).toBe('error');
    expect(resolveConfig({ logLevel: 'silent' }, { RESQUE_LOG_LEVEL: 'debug' }).logLevel).toBe('silent');
    expect(() => resolveConfig({}, { RESQUE_LOG_LEVEL: 'loud' })).toThrow(/logLevel/);
  });

  it('reads the format and the ports, and refuses what cannot be used', () => {
    const config = resolveConfig(
      {},
      { RESQUE_LOG_FORMAT: 'json', RESQUE_METRICS_PORT: '9400', RESQUE_HEALTH_PORT: '9401' },
    );
    expect(config).toMatchObject({
      logFormat: 'json',
      metricsPort: 9400,
      healthPort: 9401,
      listenHost: '0.0.0.0',
    });
    expect(() => resolveConfig({ logFormat: 'xml' as 'json' }, {})).toThrow(/logFormat/);
    expect(() => resolveConfig({ metricsPort: 70_000 }, {})).toThrow(/metricsPort/);
    expect(() => resolveConfig({}, { RESQUE_HEALTH_PORT: 'x' })).toThrow(/RESQUE_HEALTH_PORT/);
  });
});
