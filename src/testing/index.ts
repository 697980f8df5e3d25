// Helpers for applications' own tests: run jobs inline, with the JSON round trip a real worker would apply.
import { type ClientOptions, Resque } from '../client/resque.js';

/** A client that performs every enqueued job at once in the caller (Resque.inline = true). Nothing touches Redis. */
export function inlineResque(options: Omit<ClientOptions, 'inline'> = {}): Resque {
  return new Resque({ ...options, inline: true, redis: options.redis ?? { lazyConnect: true } });
}
