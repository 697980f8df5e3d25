import { describe, expect, it } from 'vitest';
import { Keys } from '../../src/protocol/keys.js';
import { formatSlotIds } from '../../src/protocol/worker-id.js';
import { reserveScript, slotReference, slotTemplate } from '../../src/worker/fetch/reserve-script.js';

describe('a worker slot-id template (reservation calls name a slot by the part of its id that differs)', () => {
  it('takes the host and the rest of a worker id; slot 0 is named by "", slot n by "~n"', () => {
    const ids = formatSlotIds('box.example:4242:high,low', 12);
    const template = slotTemplate(ids);
    expect(template).toEqual({ head: 'box.example', tail: ':4242:high,low' });
    expect(ids.map((id) => slotReference(template, id))).toEqual([
      '',
      ...ids.slice(1).map((_, i) => `~${i + 1}`),
    ]);
    for (const id of ids) expect(template.head + slotReference(template, id) + template.tail).toBe(id);
  });

  it('fits the slots of a second Worker of the same id in one process (numbers after the first one’s)', () => {
    const ids = formatSlotIds('box:1:q', 3, 5);
    const template = slotTemplate(ids);
    expect(ids.map((id) => slotReference(template, id))).toEqual(['~5', '~6', '~7']);
  });

  it('names slots by their whole id when they share no template, and refuses a slot outside the template', () => {
    const none = slotTemplate(['s1', 's2']);
    expect(none).toEqual({ head: '', tail: '' });
    expect(slotReference(none, 's2')).toBe('s2');
    expect(slotTemplate(['a:1:q', 'b~1:1:q'])).toEqual({ head: '', tail: '' });
    expect(slotTemplate([])).toEqual({ head: '', tail: '' });
    const template = slotTemplate(formatSlotIds('box:1:q', 2));
    expect(() => slotReference(template, 'other:1:q')).toThrow(/not one of this worker's/);
  });

  it('is one script per namespace, not per worker, whose text carries the specs as Lua tables', () => {
    const keys = new Keys('ns');
    const a = reserveScript(keys);
    expect(reserveScript(keys)).toBe(a);
    expect(reserveScript(new Keys('ns')).sha).toBe(a.sha);
    expect(reserveScript(new Keys('other')).sha).not.toBe(a.sha);
    expect(a.source).toContain(`local QUEUE_PREFIX = "ns:queue:"`);
    // Worker ids change with every process; Redis would keep a script per worker until SCRIPT FLUSH.
    expect(a.source).not.toContain('SLOT_HEAD =');
    expect(a.source).toMatch(/^local ANNOUNCE_KEYS = \{ "ns:ts:queues:non-empty", /m);
  });
});
