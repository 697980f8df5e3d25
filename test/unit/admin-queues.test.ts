import { describe, expect, it } from 'vitest';
import { enqueuedAt } from '../../src/api/queues.js';

describe('when the next job of a queue was enqueued', () => {
  it('reads resque-ts enqueued_at (epoch seconds) and ActiveJob enqueued_at (ISO); Ruby items have none', () => {
    expect(enqueuedAt('{"class":"A","args":[],"id":"x","enqueued_at":1764000000.5}')).toEqual(
      new Date(1_764_000_000_500),
    );
    expect(
      enqueuedAt(
        '{"class":"ActiveJob::QueueAdapters::ResqueAdapter::JobWrapper","args":[{"job_class":"X","enqueued_at":"2026-11-27T10:00:00.000000000Z"}]}',
      ),
    ).toEqual(new Date('2026-11-27T10:00:00Z'));
    expect(enqueuedAt('{"class":"Archive","args":[44,"masterbrew"]}')).toBeUndefined();
    expect(enqueuedAt('not json')).toBeUndefined();
    expect(enqueuedAt(null)).toBeUndefined();
  });
});
