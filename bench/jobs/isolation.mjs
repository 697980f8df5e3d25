// Jobs of bench/isolation.mjs, loaded by the bench's in-process worker and by supervised children alike.
import { defineJob } from '../../dist/index.js';

/** Does nothing: what is measured is the worker around it. */
export const IsoNoop = defineJob({ className: 'IsoNoop', perform: async () => {} });

/** Ends its process: how long a replacement takes (with and without a warm spare). */
export const IsoExit = defineJob({
  className: 'IsoExit',
  perform: async () => {
    process.exit(3);
  },
});
