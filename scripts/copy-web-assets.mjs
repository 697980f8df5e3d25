// tsc does not copy non-TS assets: put the dashboard's static files (JS, CSS, icon) beside the compiled dashboard.
import { cpSync } from 'node:fs';

cpSync(new URL('../src/web/assets', import.meta.url), new URL('../dist/web/assets', import.meta.url), {
  recursive: true,
});
