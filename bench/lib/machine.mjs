// What a benchmark report says about where it ran: the machine, the versions, and the load before and after.
import { cpus, loadavg } from 'node:os';

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** The machine as the run starts; call `finish()` when it ends to record the load then. */
export async function describeMachine(server) {
  return {
    date: new Date().toISOString(),
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    redis: await server.version(),
    loadBefore: load(),
    finish() {
      this.loadAfter = load();
    },
  };
}
