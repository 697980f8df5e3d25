import { readFileSync, readlinkSync } from 'node:fs';

/**
 * What tells two processes on one host apart from processes on another that shares the hostname: the kernel's boot id
 * (containers on one machine share it; a reboot changes it) and the pid namespace (containers have their own, and
 * reuse pids). Two processes whose boot id and pid namespace match see each other's pids, so `kill(pid, 0)` answers
 * whether the other is alive. Undefined where the system does not say (not Linux).
 */
export interface HostIdentity {
  readonly bootId: string;
  readonly pidNamespace: string;
}

let cached: HostIdentity | null | undefined;

export function hostIdentity(): HostIdentity | undefined {
  if (cached === undefined) {
    try {
      cached = {
        bootId: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
        pidNamespace: readlinkSync('/proc/self/ns/pid'),
      };
    } catch {
      cached = null;
    }
  }
  return cached ?? undefined;
}

/** Whether a process with this pid exists (a zombie counts as gone: it will never beat again). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true;
  }
}
