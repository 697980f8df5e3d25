// The `resque` command runs dist/cli/main.js directly (its shebang): tsc writes it without the executable bit, which
// an install from the registry adds but a linked or copied checkout does not.
import { chmodSync } from 'node:fs';

chmodSync(new URL('../dist/cli/main.js', import.meta.url), 0o755);
