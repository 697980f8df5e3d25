// What a benchmark job does when it starts: the worker process under test sets `onPerform` to count jobs and
// record pickup latency. In a child process of a supervised worker nothing sets it and the job is a pure no-op.
export const probe = {
  /** @type {(args: unknown[]) => void} */
  onPerform: () => {},
};

/** Microseconds on the host's monotonic clock, comparable between processes of one machine. */
export function nowMicros() {
  return Number(process.hrtime.bigint() / 1000n);
}
