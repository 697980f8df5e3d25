// The BullMQ benchmark processor: a sandboxed processor file (default export) and the in-process function.
import { probe } from '../lib/probe.mjs';

export default async function noop(job) {
  probe.onPerform(job.data.args);
}
