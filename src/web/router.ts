import type { Handler } from './context.js';

interface Route {
  method: 'GET' | 'POST';
  segments: string[];
  handler: Handler;
}

/** Routes by method and path pattern (`/queues/:name`); parameters are whole, decoded segments. */
export class Router {
  private readonly routes: Route[] = [];

  get(pattern: string, handler: Handler): this {
    return this.add('GET', pattern, handler);
  }

  post(pattern: string, handler: Handler): this {
    return this.add('POST', pattern, handler);
  }

  /** Every route as `{ method, pattern }`, in the order they were added (tests walk them all). */
  list(): Array<{ method: Route['method']; pattern: string }> {
    return this.routes.map((r) => ({ method: r.method, pattern: `/${r.segments.join('/')}` }));
  }

  private add(method: Route['method'], pattern: string, handler: Handler): this {
    this.routes.push({ method, segments: pattern.split('/').slice(1), handler });
    return this;
  }

  /** The handler and parameters for a request; `allowed` lists methods the path accepts when none matched. */
  match(
    method: string,
    path: string,
  ): { handler: Handler; params: Record<string, string> } | { allowed: string[] } | undefined {
    const parts = path.split('/').slice(1);
    const allowed: string[] = [];
    for (const route of this.routes) {
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      if (route.method === method || (method === 'HEAD' && route.method === 'GET')) {
        return { handler: route.handler, params };
      }
      allowed.push(route.method);
    }
    return allowed.length > 0 ? { allowed } : undefined;
  }
}

function matchSegments(
  pattern: readonly string[],
  parts: readonly string[],
): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const want = pattern[i]!;
    const part = parts[i]!;
    if (want.startsWith(':')) {
      if (part === '') return undefined;
      try {
        params[want.slice(1)] = decodeURIComponent(part);
      } catch {
        return undefined;
      }
    } else if (want !== part) {
      return undefined;
    }
  }
  return params;
}
