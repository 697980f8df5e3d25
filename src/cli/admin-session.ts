import { Admin } from '../api/admin.js';

/**
 * Runs `body` with an Admin on the command's `--redis`/`--namespace`, closed afterwards. Errors go up as they are:
 * the program reports them once, in one form (./report.ts).
 */
export async function withAdmin<T>(
  values: Record<string, unknown>,
  body: (admin: Admin) => Promise<T>,
): Promise<T> {
  const admin = new Admin({ redis: text(values['redis']), namespace: text(values['namespace']) });
  try {
    return await body(admin);
  } finally {
    await admin.close().catch(() => {});
  }
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
