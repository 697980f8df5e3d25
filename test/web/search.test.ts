// The byte-level prefilter that lets queue searches skip decoding must never reject a job the full match accepts.
import { describe, expect, it } from 'vitest';
import { type JobMatch, jobMatcher, rawPrefilter } from '../../src/api/queue-jobs.js';
import { toQueuedJob } from '../../src/client/inspect.js';

const RAWS = [
  '{"class":"Archive","args":[44,"masterbrew"]}',
  '{"class":"Archive","args":[1.0,1e3,-0.0]}',
  '{"class":"\\u0041rchive","args":["caf\\u00e9"]}',
  '{ "class" : "Archive" , "args" : [ "Spaced Out" ] }',
  '{"class":"App::Jobs::Export","args":[{"user":"ADA@example.com","n":10}],"id":"x","enqueued_at":1.5}',
  '{"args":["order"],"class":"Archive"}',
  'not json at all Archive',
  '{"class":"Archive","args":[1.5e2,0.29999999999999999,9007199254740993]}',
  '{"class":"Archive","args":[ "a" , "b" ]}',
  '{"class":"Other","args":["Archive"]}',
];
const MATCHES: JobMatch[] = [
  { className: 'Archive' },
  { className: 'App::Jobs::Export' },
  { argsText: 'masterbrew' },
  { argsText: 'MASTER' },
  { argsText: '1000' },
  { argsText: '150' },
  { argsText: '0.3' },
  { argsText: '9007199254740992' },
  { argsText: '"a","b"' },
  { argsText: 'café' },
  { argsText: 'spaced out' },
  { argsText: 'ada@' },
  { className: 'Archive', argsText: 'order' },
  { className: 'Other', argsText: 'archive' },
];

describe('rawPrefilter', () => {
  it.each(MATCHES.map((m) => [JSON.stringify(m), m] as const))(
    'agrees with the full match for %s',
    (_, match) => {
      const quick = rawPrefilter(match);
      const full = jobMatcher(match);
      for (const raw of RAWS) {
        const accepted = full(toQueuedJob(raw, 0));
        if (accepted) expect(quick(raw), raw).toBe(true);
      }
    },
  );

  it('rejects most items without decoding them', () => {
    const quick = rawPrefilter({ className: 'RareJob' });
    expect(quick('{"class":"Bulk::Import","args":[1,"a@example.com"]}')).toBe(false);
    expect(quick('{"class":"RareJob","args":[1]}')).toBe(true);
  });
});
