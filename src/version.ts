import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const pkg = require('../package.json') as { version: string };

/** The package version, written in process titles (`resque-<version>: …`) and as the default release. */
export const VERSION: string = pkg.version;
