/** One destructive action, for the audit log: who did what to what, how many things it touched, from where. */
export interface AuditEntry {
  /** e.g. `remove queue`, `retry failures`. */
  action: string;
  /** What it acted on: a queue name, a failure id, a filter as text. */
  target: string;
  /** How many jobs or failures it removed or retried. */
  count: number;
  /** Basic-auth user, `bearer token`, `session <id prefix>` or `anonymous`. */
  who: string;
  /** The client's address as the socket sees it. */
  address: string;
}

export type AuditLog = (entry: AuditEntry) => void;

/** The default: one line on stderr per action. */
export const stderrAuditLog: AuditLog = (entry) => {
  process.stderr.write(`${formatAuditEntry(entry)}\n`);
};

export function formatAuditEntry(entry: AuditEntry): string {
  const target = JSON.stringify(entry.target.slice(0, 200));
  return `resque dashboard: ${entry.who} from ${entry.address}: ${entry.action} ${target}: ${entry.count}`;
}
