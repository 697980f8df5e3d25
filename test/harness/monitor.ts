import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** One command a connection sent, as MONITOR saw it: upper-cased name and its arguments. */
export interface RecordedCommand {
  name: string;
  args: string[];
}

/** Records every command one connection sends, through a second connection in MONITOR mode. */
export interface CommandRecorder {
  readonly commands: RecordedCommand[];
  /** Waits until MONITOR has delivered everything the watched connection sent so far, then closes it. */
  stop(): Promise<RecordedCommand[]>;
}

/** The `ip:port` Redis sees for a connection, as MONITOR reports it in each line. */
async function addressOf(client: Redis): Promise<string> {
  const info = String(await client.call('CLIENT', 'INFO'));
  const addr = /(?:^|\s)addr=(\S+)/.exec(info)?.[1];
  if (!addr) throw new Error(`CLIENT INFO has no addr: ${info}`);
  return addr;
}

export async function recordCommands(url: string, client: Redis): Promise<CommandRecorder> {
  const address = await addressOf(client);
  const monitor = await new Redis(url, { maxRetriesPerRequest: 1 }).monitor();
  const commands: RecordedCommand[] = [];
  const marker = `recorder-end-${randomBytes(6).toString('hex')}`;
  let markerSeen: () => void = () => {};
  const ended = new Promise<void>((resolve) => {
    markerSeen = resolve;
  });
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (source !== address) return;
    const [name = '', ...rest] = args;
    if (name.toUpperCase() === 'ECHO' && rest[0] === marker) markerSeen();
    else commands.push({ name: name.toUpperCase(), args: rest });
  });
  return {
    commands,
    async stop() {
      await client.echo(marker);
      await ended;
      monitor.disconnect();
      return commands;
    },
  };
}

/** True when a recorded command is `LRANGE` over more than `max` items or to the list's end (`-1`). */
export function isWideRange(command: RecordedCommand, max: number): boolean {
  if (command.name !== 'LRANGE') return false;
  const start = Number(command.args[1]);
  const stop = Number(command.args[2]);
  if (start < 0 || stop < 0) return !(start < 0 && stop < 0 && stop - start + 1 <= max);
  return stop - start + 1 > max;
}
