import { randomBytes } from 'node:crypto';

/** Bytes of randomness in a job id (24 hex characters). */
const ID_BYTES = 12;
/** Ids drawn from one call to the system's random source: one `randomBytes` per job cost more than the push. */
const IDS_PER_DRAW = 256;

let pool = Buffer.alloc(0);
let offset = 0;

/** A fresh random job id, 24 lowercase hex characters. */
export function newJobId(): string {
  if (offset >= pool.length) {
    pool = randomBytes(ID_BYTES * IDS_PER_DRAW);
    offset = 0;
  }
  const id = pool.toString('hex', offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return id;
}
