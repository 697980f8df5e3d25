import { describe, expect, it } from 'vitest';
import { FailureNotFoundError } from '../../src/errors/index.js';
import {
  frameLocation,
  groupId,
  groupSignature,
  normaliseMessage,
  topFrame,
} from '../../src/failure/grouping.js';
import { formatFailureId, parseFailureId, recordDigest } from '../../src/failure/identity.js';
import { compactJson, rawMember, withStringMember } from '../../src/protocol/raw-json.js';

describe('raw JSON edits', () => {
  const record = '{"a":1.0,"payload":{"class":"X","args":[1.0, {"k":"}\\"]"}]},"queue":"q"}';

  it('finds members without decoding them', () => {
    const payload = rawMember(record, 'payload')!;
    const args = rawMember(record, 'args', payload.valueStart)!;
    expect(record.slice(args.valueStart, args.valueEnd)).toBe('[1.0, {"k":"}\\"]"}]');
  });

  it('appends a string member as the last key, or replaces it in place', () => {
    const once = withStringMember(record, 'retried_at', 't1');
    expect(once).toBe(`${record.slice(0, -1)},"retried_at":"t1"}`);
    expect(withStringMember(once, 'retried_at', 't2')).toBe(`${record.slice(0, -1)},"retried_at":"t2"}`);
    expect(withStringMember('{}', 'k', 'v')).toBe('{"k":"v"}');
    expect(withStringMember('{"retried_at":"x","b":1}', 'retried_at', 'y')).toBe('{"retried_at":"y","b":1}');
  });

  it('compacts whitespace outside strings only, keeping number bytes', () => {
    expect(compactJson('[ 1.0 , "a b" , { "c" : 1e+20 } ]')).toBe('[1.0,"a b",{"c":1e+20}]');
  });
});

describe('failure ids', () => {
  const raw = '{"failed_at":"2026/11/27 22:09:46 UTC","payload":{"class":"A","args":[]},"queue":"q"}';

  it('round-trip, with list names that contain colons', () => {
    const id = formatFailureId('weird:queue_failed', 7, raw);
    expect(parseFailureId(id)).toEqual({ list: 'weird:queue_failed', index: 7, digest: recordDigest(raw) });
  });

  it('keep their digest when retried_at is added or changed', () => {
    const retried = `${raw.slice(0, -1)},"retried_at":"2026/11/28 00:00:00 UTC"}`;
    expect(recordDigest(retried)).toBe(recordDigest(raw));
    expect(recordDigest(raw.replace('"A"', '"B"'))).not.toBe(recordDigest(raw));
  });

  it.each(['', 'failed', 'failed:1', 'failed:x:0123456789', 'queue:default:1:0123456789', 'failed:1:XYZ'])(
    'rejects %j as not found',
    (text) => {
      expect(() => parseFailureId(text)).toThrow(FailureNotFoundError);
    },
  );
});

describe('error groups', () => {
  it('mask numbers, hex ids, UUIDs and quoted values; keep the first line', () => {
    expect(normaliseMessage('could not export report-42')).toBe('could not export report-<n>');
    expect(normaliseMessage('boom [7, "x"]')).toBe('boom [<n>, <str>]');
    expect(normaliseMessage("user 'bob' id 5f3a9c2b1d7e not found")).toBe('user <str> id <hex> not found');
    expect(normaliseMessage('job 123e4567-e89b-12d3-a456-426614174000 at 0x7ffd1234')).toBe(
      'job <uuid> at <hex>',
    );
    expect(normaliseMessage('uninitialized constant NoSuchClass\n\n   constant = x')).toBe(
      'uninitialized constant NoSuchClass',
    );
  });

  it('take path:line of the top application frame, JS or Ruby', () => {
    expect(frameLocation('perform (/app/jobs/x.js:12:5)')).toBe('/app/jobs/x.js:12');
    expect(frameLocation('/app/jobs/x.js:12:5')).toBe('/app/jobs/x.js:12');
    expect(frameLocation("/app/golden_jobs.rb:24:in `perform'")).toBe('/app/golden_jobs.rb:24');
    expect(
      topFrame([
        'Object.openSync (node:fs:573:3)',
        'readFile (/app/node_modules/lib/x.js:1:2)',
        'run (/app/a.js:3:9)',
      ]),
    ).toBe('/app/a.js:3');
    expect(topFrame([])).toBe('');
  });

  it('give one id to failures that differ only in masked details', () => {
    const base = { exception: 'Boom', backtrace: ["/app/golden_jobs.rb:24:in `perform'"] };
    const a = groupId(
      groupSignature({ ...base, payload: { class: 'Failing', args: [1] }, error: 'could not export 41' }),
    );
    const b = groupId(
      groupSignature({ ...base, payload: { class: 'Failing', args: [2] }, error: 'could not export 42' }),
    );
    const c = groupId(
      groupSignature({ ...base, payload: { class: 'Other', args: [2] }, error: 'could not export 42' }),
    );
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });
});
