import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The dashboard's static files (no inline script or style anywhere, so the CSP can forbid both). */
const TYPES: ReadonlyMap<string, string> = new Map([
  ['app.js', 'text/javascript; charset=utf-8'],
  ['app.css', 'text/css; charset=utf-8'],
  ['icon.svg', 'image/svg+xml'],
]);

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const assets = new Map<string, Asset>();

function load(name: string): Asset | undefined {
  const type = TYPES.get(name);
  if (!type) return undefined;
  let asset = assets.get(name);
  if (!asset) {
    const body = readFileSync(new URL(`./assets/${name}`, import.meta.url));
    asset = { body, type, etag: `"${createHash('sha1').update(body).digest('hex').slice(0, 16)}"` };
    assets.set(name, asset);
  }
  return asset;
}

/** `/assets/<name>?v=<content hash>`: cached for a year, new URL whenever the file changes. */
export function assetUrl(name: string): string {
  const asset = load(name);
  return `/assets/${name}${asset ? `?v=${asset.etag.slice(1, 9)}` : ''}`;
}

export function readAsset(name: string): Asset | undefined {
  return load(name);
}
