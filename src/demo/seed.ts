import type { Resque } from '../client/resque.js';
import { ChargeCard, DEMO_QUEUES, ExportReport, ResizeImage, SendWelcomeEmail } from './jobs.js';

/** How many jobs of each demo class a seed of `total` enqueues: mostly quick, some slow, some failing. */
export function demoMix(total: number): { mail: number; images: number; billing: number; reports: number } {
  const images = Math.floor(total * 0.25);
  const billing = Math.floor(total * 0.25);
  const reports = Math.floor(total * 0.1);
  return { mail: total - images - billing - reports, images, billing, reports };
}

/** Empties the demo's own queues (and nothing else), then enqueues `total` demo jobs. Returns how many went in. */
export async function seedDemo(resque: Resque, total: number): Promise<number> {
  for (const queue of DEMO_QUEUES) await resque.removeQueue(queue);
  const mix = demoMix(total);
  const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
  const batches = await Promise.all([
    resque.enqueueBulk(
      SendWelcomeEmail,
      range(mix.mail).map((i): [number, string] => [i, `user${i}@example.com`]),
    ),
    resque.enqueueBulk(
      ResizeImage,
      range(mix.images).map((i): [string, number, number] => [
        `uploads/photo-${i}.jpg`,
        640,
        200 + 100 * (i % 5),
      ]),
    ),
    resque.enqueueBulk(
      ChargeCard,
      range(mix.billing).map((i): [number, number] => [1000 + i, i % 3 === 0 ? 700 * i : 995 + i]),
    ),
    resque.enqueueBulk(
      ExportReport,
      range(mix.reports).map((i): [string] => [`report-${i}`]),
    ),
  ]);
  return batches.reduce((sum, batch) => sum + batch.length, 0);
}
