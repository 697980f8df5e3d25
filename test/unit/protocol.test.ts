import { describe, expect, it } from 'vitest';
import {
  InvalidClassNameError,
  InvalidQueueNameError,
  Keys,
  MalformedPayloadError,
} from '../../src/index.js';
import { decodeFailureRecord, encodeFailureRecord } from '../../src/protocol/failure-record.js';
import { assertClassName, assertQueueName } from '../../src/protocol/names.js';
import { decodePayload, encodePayload, withNumberField } from '../../src/protocol/payload.js';
import { failureTime, isoOffset, isoUtc, parseResqueTime, rubyTimeToS } from '../../src/protocol/time.js';
import { formatSlotIds, formatWorkerId, parseWorkerId } from '../../src/protocol/worker-id.js';
import { encodeWorkerStatus, rawPayloadOfStatus } from '../../src/protocol/worker-status.js';

describe('keys', () => {
  it('match docs/protocol.md (Keys) under the namespace', () => {
    const k = new Keys('resque');
    expect(k.queues).toBe('resque:queues');
    expect(k.queue('file_serve')).toBe('resque:queue:file_serve');
    expect(k.workers).toBe('resque:workers');
    expect(k.worker('h:1:q')).toBe('resque:worker:h:1:q');
    expect(k.workerStarted('h:1:q')).toBe('resque:worker:h:1:q:started');
    expect(k.heartbeats).toBe('resque:workers:heartbeat');
    expect(k.pruningLock).toBe('resque:pruning_dead_workers_in_progress');
    expect(k.processed).toBe('resque:stat:processed');
    expect(k.failedCount).toBe('resque:stat:failed');
    expect(k.processedBy('h:1:q')).toBe('resque:stat:processed:h:1:q');
    expect(k.failedBy('h:1:q')).toBe('resque:stat:failed:h:1:q');
    expect(k.failed).toBe('resque:failed');
    expect(k.failedQueues).toBe('resque:failed_queues');
    expect(k.failedList(k.failedQueueName('golden_fail'))).toBe('resque:golden_fail_failed');
    expect(k.pauseAll).toBe('resque:pause-all-workers');
    expect(new Keys('resque:GitHub').queue('x')).toBe('resque:GitHub:queue:x');
  });
});

describe('payload codec', () => {
  it('writes class then args, compact, and metadata after them', () => {
    expect(encodePayload('Archive', [44, 'masterbrew'])).toBe('{"class":"Archive","args":[44,"masterbrew"]}');
    expect(encodePayload('Archive', [], { id: 'abc', enqueuedAt: 1764000000.5 })).toBe(
      '{"class":"Archive","args":[],"id":"abc","enqueued_at":1764000000.5}',
    );
  });

  it('writes the trace context last, after every other member', () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    expect(
      encodePayload('Archive', [1], {
        id: 'abc',
        enqueuedAt: 1764000000.5,
        retry: { attempts: 3 },
        concurrencyKey: 'c',
        rateKey: 'r',
        tenant: 't',
        trace: { traceparent },
      }),
    ).toBe(
      `{"class":"Archive","args":[1],"id":"abc","enqueued_at":1764000000.5,"retry":{"attempts":3},"concurrency_key":"c","rate_key":"r","tenant":"t","trace":{"traceparent":"${traceparent}"}}`,
    );
  });

  it.each([
    ['not json', 'not JSON'],
    ['[1,2]', 'an array'],
    ['"text"', 'string'],
    ['null', 'object'],
    ['{"args":[]}', '"class"'],
    ['{"class":"","args":[]}', '"class"'],
    ['{"class":"X","args":{}}', '"args"'],
    ['{"class":"X"}', '"args"'],
  ])('rejects %s saying why', (raw, reason) => {
    expect(() => decodePayload(raw)).toThrow(MalformedPayloadError);
    expect(() => decodePayload(raw)).toThrow(reason);
  });

  it('adds a counter field without touching the other bytes', () => {
    const ruby = '{"class":"A","args":[1.0,9007199254740993]}';
    expect(withNumberField(ruby, 'returns', 1)).toBe(
      '{"class":"A","args":[1.0,9007199254740993],"returns":1}',
    );
    expect(withNumberField('{"class":"A","args":[],"returns":1}', 'returns', 2)).toBe(
      '{"class":"A","args":[],"returns":2}',
    );
  });
});

describe('names', () => {
  it.each(['', ' ', 'a,b', 'a:b', ' lead', 'tab\there', '!neg', 'glob*', 'x?'])(
    'rejects queue %j',
    (name) => {
      expect(() => assertQueueName(name)).toThrow(InvalidQueueNameError);
    },
  );
  it('accepts ordinary queue names', () => {
    for (const name of ['default', 'file_serve', 'high-priority', 'v2.mail', 'ünicode'])
      assertQueueName(name);
  });
  it.each(['', 'has space', 'a,b', 'A:B', '1Leading', 'A::', 'A::::B'])('rejects class %j', (name) => {
    expect(() => assertClassName(name)).toThrow(InvalidClassNameError);
  });
  it('accepts constant paths and dashed names', () => {
    for (const name of ['Archive', 'App::Jobs::Export', '::Top', 'job-name', 'snake_case'])
      assertClassName(name);
  });
});

describe('worker ids', () => {
  it('always have three parts and leave exclusions out', () => {
    expect(formatWorkerId('web-1', 4242, ['critical', 'high', 'low'])).toBe('web-1:4242:critical,high,low');
    expect(formatWorkerId('web-1', 4242, ['*', '!low'])).toBe('web-1:4242:*');
    expect(formatWorkerId('web-1', 4242, ['!low'])).toBe('web-1:4242:*');
  });
  it('parse like split(":", 3)', () => {
    expect(parseWorkerId('web-1:4242:a,b')).toEqual({
      host: 'web-1',
      pid: '4242',
      queues: ['a', 'b'],
      slot: 0,
    });
    expect(parseWorkerId('web-1:4242:a:b')).toEqual({ host: 'web-1', pid: '4242', queues: ['a:b'], slot: 0 });
    expect(parseWorkerId('web-1:4242')).toBeUndefined();
  });

  it('slot ids: the host carries the slot number, the pid stays the worker’s; 0.1.0’s form still parses', () => {
    expect(formatSlotIds('web-1.example:4242:a,b', 3)).toEqual([
      'web-1.example:4242:a,b',
      'web-1.example~1:4242:a,b',
      'web-1.example~2:4242:a,b',
    ]);
    expect(parseWorkerId('web-1.example~2:4242:a,b')).toEqual({
      host: 'web-1.example',
      pid: '4242',
      queues: ['a', 'b'],
      slot: 2,
    });
    expect(parseWorkerId('web-1:4242-3:a')).toEqual({ host: 'web-1', pid: '4242', queues: ['a'], slot: 3 });
    // Ruby's split(':') reads a slot as host "web-1~1", pid "4242", never its own hostname.
    expect('web-1~1:4242:a'.split(':')).toEqual(['web-1~1', '4242', 'a']);
  });
});

describe('worker status', () => {
  it('wraps the raw payload bytes in Ruby key order', () => {
    const raw = '{"class":"Archive","args":[44,"masterbrew"]}';
    const status = encodeWorkerStatus('file_serve', '2026-11-27T21:39:58Z', raw);
    expect(status).toBe(
      '{"queue":"file_serve","run_at":"2026-11-27T21:39:58Z","payload":{"class":"Archive","args":[44,"masterbrew"]}}',
    );
    expect(rawPayloadOfStatus(status)).toBe(raw);
    expect(rawPayloadOfStatus(encodeWorkerStatus('"payload":', 'x', raw))).toBe(raw);
  });
});

describe('time formats', () => {
  const t = new Date(Date.UTC(2026, 10, 27, 21, 39, 58));
  it('match the strings Ruby writes', () => {
    expect(isoUtc(t)).toBe('2026-11-27T21:39:58Z');
    expect(isoOffset(t)).toBe('2026-11-27T21:39:58+00:00');
    expect(rubyTimeToS(t)).toBe('2026-11-27 21:39:58 +0000');
    expect(failureTime(t)).toBe('2026/11/27 21:39:58 UTC');
  });
  it('parse every format back', () => {
    for (const text of [
      '2026-11-27T21:39:58Z',
      '2026-11-27T21:39:58+00:00',
      '2026-11-27T23:39:58+02:00',
      '2026-11-27 21:39:58 +0000',
      '2026/11/27 21:39:58 UTC',
      '2026/11/27 21:39:58',
    ]) {
      expect(parseResqueTime(text)?.getTime(), text).toBe(t.getTime());
    }
    expect(parseResqueTime('garbage')).toBeUndefined();
  });
});

describe('failure record', () => {
  it('round-trips a Ruby record byte for byte', () => {
    const ruby =
      '{"failed_at":"2026/11/27 21:39:58 UTC","payload":{"class":"FailingJob","args":[7,"x"]},"exception":"ArgumentError","error":"boom [7, \\"x\\"]","backtrace":["/app/jobs.rb:14:in `perform\'"],"worker":"vm:19093:file_serve","queue":"file_serve"}';
    const record = decodeFailureRecord(ruby)!;
    expect(encodeFailureRecord(record)).toBe(ruby);
  });
  it('returns undefined for garbage', () => {
    expect(decodeFailureRecord('nope')).toBeUndefined();
    expect(decodeFailureRecord('[1]')).toBeUndefined();
  });
});
