import { expect } from 'vitest';
import { routes } from '../../src/web/routes/index.js';
import type { Answer, WebClient } from './client.js';

/** Values to put in each route parameter: names that exist, that do not, that are hostile or huge. */
export type ParamValues = Readonly<Record<string, readonly string[]>>;

/** Query strings every GET route is also asked with: hostile cursors, offsets, limits and filters. */
export const HOSTILE_QUERIES = [
  'cursor=99999999999999999999999',
  'cursor=18446744073709551616',
  'cursor=18446744073709551615',
  'cursor=-1',
  'start=18446744073709551616',
  'start=99999999999',
  'start=-1',
  'limit=0',
  'limit=999999999999',
  'window=%00',
  'order=count',
  'order=asc',
  'class=%3Cscript%3E&args=%22%5D',
  'retried=yes',
  'group=nope',
  'queue=hashq&error=%E2%82%AC',
  'list=%2E%2E',
  `args=${'x'.repeat(6000)}`,
  '%=%&&=&cursor',
];

const SECURITY_HEADERS = [
  'content-security-policy',
  'x-content-type-options',
  'x-frame-options',
  'referrer-policy',
] as const;

/** Fails unless the answer is below 500 and carries the security headers. */
export function expectSafe(answer: Answer, what: string): void {
  expect.soft(answer.status, `${what}: ${answer.text.slice(0, 300)}`).toBeLessThan(500);
  for (const header of SECURITY_HEADERS)
    expect(answer.headers.get(header), `${what}: ${header}`).toBeTruthy();
}

/** Every path the router knows, with each parameter filled from `values` (the first value for the others). */
export function routePaths(method: 'GET' | 'POST', values: ParamValues): string[] {
  const paths = new Set<string>();
  for (const route of routes.list()) {
    if (route.method !== method) continue;
    const params = route.pattern.split('/').filter((s) => s.startsWith(':'));
    if (params.length === 0) {
      paths.add(route.pattern);
      continue;
    }
    for (const param of params) {
      for (const value of values[param.slice(1)] ?? ['x']) {
        let path = route.pattern.replace(param, encodeURIComponent(value));
        for (const other of params) {
          path = path.replace(other, encodeURIComponent(values[other.slice(1)]?.[0] ?? 'x'));
        }
        paths.add(path);
      }
    }
  }
  return [...paths];
}

/**
 * GETs every route (each parameter value, and the hostile queries on the first), then POSTs every action with
 * hostile form fields; each answer must be below 500 with the security headers. Returns the answers by request.
 */
export async function walkRoutes(
  client: WebClient,
  values: ParamValues,
  options: { queries?: readonly string[]; posts?: boolean } = {},
): Promise<Map<string, Answer>> {
  const answers = new Map<string, Answer>();
  const gets = routePaths('GET', values);
  expect(gets.length).toBeGreaterThan(30);
  for (const path of gets) {
    const answer = await client.get(path);
    expectSafe(answer, `GET ${path}`);
    answers.set(`GET ${path}`, answer);
  }
  const first = routePaths(
    'GET',
    Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.slice(0, 1)])),
  );
  for (const path of first) {
    for (const query of options.queries ?? []) {
      const answer = await client.get(`${path}?${query}`);
      expectSafe(answer, `GET ${path}?${query.slice(0, 80)}`);
    }
  }
  if (options.posts === false) return answers;
  for (const path of routePaths('POST', values)) {
    const answer = await client.post(path, {
      id: values['id']?.[0] ?? 'x',
      back: '/failed/x\r\nX-Injected: 1',
      expected: '18446744073709551616',
      class: 'Evil',
      args: '<',
      remove: 'yes',
      retried: 'yes',
      queue: 'hashq',
    });
    expectSafe(answer, `POST ${path}`);
    expect(answer.headers.get('x-injected'), `POST ${path}`).toBeNull();
    answers.set(`POST ${path}`, answer);
  }
  return answers;
}
