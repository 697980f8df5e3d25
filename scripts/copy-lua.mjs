// tsc does not copy non-TS assets: put the Lua scripts beside the compiled script runner.
import { cpSync } from 'node:fs';

cpSync(new URL('../src/redis/lua', import.meta.url), new URL('../dist/redis/lua', import.meta.url), {
  recursive: true,
});
