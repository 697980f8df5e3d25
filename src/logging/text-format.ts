/** What every pino line carries; the text format shows the pid and time only in Resque's debug format. */
const STANDARD = new Set(['level', 'time', 'pid', 'hostname', 'msg']);

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * One pino record as Resque writes its log: `*** message` (VERBOSE), or `** [HH:MM:SS YYYY-MM-DD] pid: message`
 * (VVERBOSE) when `timestamped`, followed by the record's own fields as `key=value`.
 */
export function formatTextLine(record: Readonly<Record<string, unknown>>, timestamped: boolean): string {
  let message = String(record['msg'] ?? '');
  for (const [key, value] of Object.entries(record)) {
    if (!STANDARD.has(key) && value !== undefined) message += ` ${key}=${formatValue(value)}`;
  }
  if (!timestamped) return `*** ${message}\n`;
  const time = record['time'];
  const d = typeof time === 'string' || typeof time === 'number' ? new Date(time) : new Date();
  const stamp = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  return `** [${stamp}] ${String(record['pid'] ?? process.pid)}: ${message}\n`;
}

/** A value as it reads in `key=value`: bare when that is unambiguous, else JSON. */
function formatValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}
