import type { Admin } from '../api/admin.js';
import type { Html } from './html.js';
import type { ResolvedDashboardOptions } from './options.js';

/** What every route reads: the admin model (the only way to Redis), options, and labels for the footer. */
export interface App {
  readonly admin: Admin;
  readonly options: ResolvedDashboardOptions;
  readonly namespace: string;
  readonly redisLabel: string;
}

/** Builds a link inside the dashboard: the mount prefix, the path, and the query without empty values. */
export type UrlFn = (path: string, query?: Record<string, string | number | boolean | undefined>) => string;

/** What views need besides their data. */
export interface View {
  readonly url: UrlFn;
  /** The CSRF token every form posts back. */
  readonly csrf: string;
  readonly readOnly: boolean;
  /** Now, epoch ms (for ages). */
  readonly now: number;
  readonly options: ResolvedDashboardOptions;
  /** Signed in with the sign-in form (token mode): the page offers "sign out". */
  readonly signedIn: boolean;
}

/** One request as routes see it. */
export interface Request {
  readonly method: string;
  /** Path below the mount prefix, e.g. `/queues/mail`. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly params: Readonly<Record<string, string>>;
  /** The POSTed form (or JSON object, its values as strings). */
  readonly form: URLSearchParams;
  /** A request for the JSON API (`/api/…`). */
  readonly api: boolean;
  readonly view: View;
  /** Records a destructive action in the audit log: what, on what, how many jobs or failures it touched. */
  readonly audit: (action: string, target: string, count: number) => void;
}

export type Tab =
  | 'overview'
  | 'working'
  | 'failed'
  | 'errors'
  | 'queues'
  | 'workers'
  | 'delayed'
  | 'retries'
  | 'schedule'
  | 'stats';

export type Reply =
  | {
      kind: 'page';
      title: string;
      tab: Tab | undefined;
      body: Html;
      /** Refreshed by polling while the page is open. */
      live?: boolean;
      status?: number;
    }
  | { kind: 'json'; body: unknown; status?: number }
  | { kind: 'redirect'; to: string; notice?: string; signOut?: boolean }
  | { kind: 'text'; body: string; contentType: string; status?: number };

export type Handler = (app: App, request: Request) => Promise<Reply>;

/** Segment of a path, encoded (queue names, worker and failure ids may hold `/`, `:`, `?`, `#`). */
export const seg = (text: string): string => encodeURIComponent(text);

export function makeUrl(prefix: string): UrlFn {
  return (path, query) => {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== '' && value !== false) params.set(key, String(value));
    }
    const search = params.toString();
    return `${prefix}${path}${search ? `?${search}` : ''}`;
  };
}
