/** Worker ids: `<host>:<pid>:<q1,q2>`, always three parts with a non-empty queue list (docs/protocol.md, Worker ids and slot ids). */
export interface WorkerIdParts {
  host: string;
  pid: string;
  queues: string[];
}

export function formatWorkerId(host: string, pid: number | string, queuePatterns: readonly string[]): string {
  const positive = queuePatterns.filter((q) => !q.startsWith('!'));
  const list = positive.length > 0 ? positive.join(',') : '*';
  return `${host}:${pid}:${list}`;
}

/** Parses like Ruby's `split(':', 3)`: queue names may not contain ":" but a foreign one might. */
export function parseWorkerId(id: string): WorkerIdParts | undefined {
  const first = id.indexOf(':');
  const second = first < 0 ? -1 : id.indexOf(':', first + 1);
  if (first <= 0 || second < 0) return undefined;
  const queuePart = id.slice(second + 1);
  return {
    host: id.slice(0, first),
    pid: id.slice(first + 1, second),
    queues: queuePart ? queuePart.split(',') : [],
  };
}

/**
 * The ids of a worker's slots: the worker's own id first, then `<host>:<pid>-<n>:<queues>` for each further slot,
 * so each job a worker runs at once has its own `worker:<id>` status, as Ruby shows one job per worker.
 */
export function formatSlotIds(workerId: string, slots: number): string[] {
  const parts = parseWorkerId(workerId);
  if (!parts) throw new Error(`Not a worker id: ${workerId}`);
  const queues = workerId.slice(parts.host.length + parts.pid.length + 2);
  return Array.from({ length: slots }, (_, i) =>
    i === 0 ? workerId : `${parts.host}:${parts.pid}-${i}:${queues}`,
  );
}
