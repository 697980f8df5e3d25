import { formatSlotIds } from '../protocol/worker-id.js';

/**
 * Slot numbers taken by the Worker objects of this process, per worker id. Two Workers in one process with the same
 * hostname and queue list would otherwise get the same id and the same slots, and each would overwrite the other's
 * in-flight keys: the second takes the numbers after the first's, so its own id is a slot id (`<host>~<n>:…`).
 */
const taken = new Map<string, Array<{ first: number; count: number }>>();

export interface SlotAllocation {
  /** The Worker's id: `workerId` for the first Worker with it, else the id of its first slot. */
  id: string;
  slotIds: string[];
  /** Gives the numbers back once the Worker has stopped. */
  release: () => void;
}

export function allocateSlots(workerId: string, count: number): SlotAllocation {
  const ranges = taken.get(workerId) ?? [];
  let first = 0;
  for (const range of [...ranges].sort((a, b) => a.first - b.first)) {
    if (first + count <= range.first) break;
    first = Math.max(first, range.first + range.count);
  }
  const range = { first, count };
  ranges.push(range);
  taken.set(workerId, ranges);
  const slotIds = formatSlotIds(workerId, count, first);
  return {
    id: slotIds[0] ?? workerId,
    slotIds,
    release: () => {
      const left = (taken.get(workerId) ?? []).filter((r) => r !== range);
      if (left.length > 0) taken.set(workerId, left);
      else taken.delete(workerId);
    },
  };
}
