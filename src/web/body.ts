import type { IncomingMessage } from 'node:http';
import { BadRequestError } from './errors.js';

const MAX_BODY = 64 * 1024;

/**
 * A POST body as form fields: `application/x-www-form-urlencoded`, or a JSON object whose values become strings
 * (for API clients). At most 64 KiB.
 */
export async function readBody(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new BadRequestError('Request body too large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const type = req.headers['content-type'] ?? '';
  if (!type.includes('application/json')) return new URLSearchParams(text);
  if (text.trim() === '') return new URLSearchParams();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BadRequestError('Request body is not JSON');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new BadRequestError('Request body must be a JSON object');
  }
  const form = new URLSearchParams();
  for (const [key, field] of Object.entries(value)) {
    if (field !== null && field !== undefined)
      form.set(key, typeof field === 'string' ? field : String(field));
  }
  return form;
}
