// The resque-ts benchmark job, loadable by `resque work --require` and by the in-process worker alike.
import { defineJob } from '../../dist/index.js';
import { probe } from '../lib/probe.mjs';

export const Noop = defineJob({
  className: 'Noop',
  queue: 'bench',
  perform: async (_ctx, ...args) => probe.onPerform(args),
});
