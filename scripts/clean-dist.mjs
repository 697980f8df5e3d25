// A build starts from an empty dist, so files whose source was moved or deleted are not packed.
import { rmSync } from 'node:fs';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
