/**
 * Worker ids: `<host>:<pid>:<q1,q2>`, always three parts with a non-empty queue list (docs/protocol.md, Worker ids and
 * slot ids). A worker running several jobs at once registers one id per slot: its own id for the first, and
 * `<host>~<n>:<pid>:<queues>` for slot n. Ruby's same-host pruning rule compares the host part with its own hostname
 * and the pid part with its `ps` list: a slot's host part is never a hostname (`~` cannot be in one), and its pid
 * part is the worker's own live pid, so a Ruby worker starting beside it leaves every slot alone, while resque-web
 * and Ruby's `Worker.find` still split it into host, pid and queues.
 */
export interface WorkerIdParts {
  /** The hostname, without a slot suffix. */
  host: string;
  pid: string;
  queues: string[];
  /** 0 for a worker's own id, n for its slot n. */
  slot: number;
}

const SLOT_MARK = '~';

export function formatWorkerId(host: string, pid: number | string, queuePatterns: readonly string[]): string {
  const positive = queuePatterns.filter((q) => !q.startsWith('!'));
  const list = positive.length > 0 ? positive.join(',') : '*';
  return `${host}:${pid}:${list}`;
}

/**
 * The ids of a worker's slots numbered `firstSlot` on: slot 0 is the worker id itself, slot n
 * `<host>~<n>:<pid>:<queues>`.
 */
export function formatSlotIds(workerId: string, slots: number, firstSlot = 0): string[] {
  const first = workerId.indexOf(':');
  if (first <= 0) throw new Error(`Not a worker id: ${workerId}`);
  const host = workerId.slice(0, first);
  const rest = workerId.slice(first);
  return Array.from({ length: slots }, (_, i) => {
    const n = firstSlot + i;
    return n === 0 ? workerId : `${host}${SLOT_MARK}${n}${rest}`;
  });
}

/**
 * Parses like Ruby's `split(':', 3)`: queue names may not contain ":" but a foreign one might. Slot ids of this
 * release (`host~n`) and of 0.1.0 (`pid-n`) both give the worker's host and pid and the slot number.
 */
export function parseWorkerId(id: string): WorkerIdParts | undefined {
  const first = id.indexOf(':');
  const second = first < 0 ? -1 : id.indexOf(':', first + 1);
  if (first <= 0 || second < 0) return undefined;
  const queuePart = id.slice(second + 1);
  let host = id.slice(0, first);
  let pid = id.slice(first + 1, second);
  let slot = 0;
  const hostSlot = /^(.+)~(\d+)$/.exec(host);
  const pidSlot = /^(\d+)-(\d+)$/.exec(pid);
  if (hostSlot) [host, slot] = [hostSlot[1]!, Number(hostSlot[2])];
  else if (pidSlot) [pid, slot] = [pidSlot[1]!, Number(pidSlot[2])];
  return { host, pid, queues: queuePart ? queuePart.split(',') : [], slot };
}
