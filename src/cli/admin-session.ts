import { Admin } from '../api/admin.js';
import { adminOptions } from './commands/support.js';

/**
 * Runs `body` with an Admin on the command's `--redis`/`--namespace`, closed afterwards. Errors go up as they are:
 * the program reports them once, in one form (./report.ts).
 */
export async function withAdmin<T>(
  values: Record<string, unknown>,
  body: (admin: Admin) => Promise<T>,
): Promise<T> {
  const admin = new Admin(adminOptions(values));
  try {
    return await body(admin);
  } finally {
    await admin.close().catch(() => {});
  }
}
