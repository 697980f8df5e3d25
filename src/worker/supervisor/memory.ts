import { readFileSync } from 'node:fs';

export const MB = 1024 * 1024;

/**
 * Resident memory of a process, read by the supervisor from `/proc/<pid>/status` (Linux), so a child whose event
 * loop is blocked in a runaway allocation is still measured. Undefined where /proc is missing (the child then
 * reports its own RSS with its results) or the process is gone.
 */
export function residentBytes(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'latin1');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export const megabytes = (bytes: number): number => Math.round(bytes / MB);
