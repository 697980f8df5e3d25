// The value of a slot's in-flight key (`ts:inflight:<slot>`), the record that a job is reserved and unfinished:
//
//   token + "\n" + queue + "\n" + item bytes
//
// `token` is TOKEN_LENGTH characters naming this reservation of the slot; `queue` the queue it came from; the item
// is the job's exact bytes, even when they are not JSON. reserve.lua writes it; give_back.lua and fail_held.lua only
// check that it starts with the header they were given; this module is the only reader. The format has not changed
// since the first release, so workers of two releases sharing a Redis during a deploy read each other's in-flight
// jobs; a change must keep reading this form.

export const TOKEN_LENGTH = 16;

/** A reserved job as its in-flight key holds it. */
export interface HeldJob {
  readonly token: string;
  readonly queue: string;
  /** The item's exact bytes. */
  readonly raw: string;
}

/** What a held value starts with: the scripts compare it to know the slot still holds that reservation. */
export function inflightHeader(token: string, queue: string): string {
  return `${token}\n${queue}\n`;
}

export function parseInflight(value: string | null | undefined): HeldJob | undefined {
  if (!value || value.length < TOKEN_LENGTH + 2 || value[TOKEN_LENGTH] !== '\n') return undefined;
  const queueEnd = value.indexOf('\n', TOKEN_LENGTH + 1);
  if (queueEnd < 0) return undefined;
  return {
    token: value.slice(0, TOKEN_LENGTH),
    queue: value.slice(TOKEN_LENGTH + 1, queueEnd),
    raw: value.slice(queueEnd + 1),
  };
}
