// tsc does not copy non-TS assets: put every Lua script beside the compiled module that declares it.
import { cpSync, readdirSync } from 'node:fs';

const src = new URL('../src/', import.meta.url);
const dist = new URL('../dist/', import.meta.url);
for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.lua')) continue;
  const relative = `${(entry.parentPath ?? entry.path).slice(src.pathname.length)}/${entry.name}`.replace(
    /^\//,
    '',
  );
  cpSync(new URL(relative, src), new URL(relative, dist));
}
