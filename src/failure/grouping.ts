import { createHash } from 'node:crypto';
import type { JsonValue } from '../protocol/json.js';

/**
 * What makes two failures "the same error": job class + exception + normalised message + top application frame.
 * Pure functions, used when a failure is written (to update its group) and when a group's members are looked for
 * in the failure lists (to match records against a group id).
 */
export interface GroupSignature {
  className: string;
  exception: string;
  /** The message's first line with numbers, hex ids, UUIDs and quoted values masked. */
  message: string;
  /** `path:line` of the first frame outside Node's internals and node_modules (first frame otherwise). */
  frame: string;
}

export const GROUP_ID_LENGTH = 12;
const MESSAGE_MAX = 200;
const UNKNOWN_CLASS = '(unknown)';

const MASKS: ReadonlyArray<[RegExp, string]> = [
  [/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`[^`'\n]*`/g, '<str>'],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>'],
  [/\b0x[0-9a-f]+\b/gi, '<hex>'],
  [/\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b/gi, '<hex>'],
  [/\d+(?:\.\d+)?/g, '<n>'],
];

export function normaliseMessage(message: string): string {
  const firstLine = message.split('\n').find((line) => line.trim() !== '') ?? '';
  let text = firstLine;
  for (const [pattern, mask] of MASKS) text = text.replace(pattern, mask);
  return text.replace(/\s+/g, ' ').trim().slice(0, MESSAGE_MAX);
}

const NOT_APPLICATION = /^(node:|internal\/)|\((node:|internal\/)|[/\\]node_modules[/\\]/;

/** `path:line` of a JS (`fn (/app/x.js:12:5)`) or Ruby (`/app/x.rb:24:in 'perform'`) frame; column dropped. */
export function frameLocation(frame: string): string {
  const js = /\(?((?:file:\/\/)?[^\s()]+?):(\d+):\d+\)?$/.exec(frame);
  if (js) return `${js[1]}:${js[2]}`;
  const ruby = /^(.+?):(\d+)(?::in\b.*)?$/.exec(frame);
  if (ruby) return `${ruby[1]}:${ruby[2]}`;
  return frame;
}

export function topFrame(backtrace: readonly string[]): string {
  const frames = backtrace.map((frame) => frame.trim()).filter((frame) => frame !== '');
  const application = frames.find((frame) => !NOT_APPLICATION.test(frame)) ?? frames[0] ?? '';
  return frameLocation(application);
}

/** The class Resque would run: `payload.class`, or undefined for payloads that are not jobs. */
export function payloadClass(payload: JsonValue | undefined): string | undefined {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return undefined;
  const className = payload['class'];
  return typeof className === 'string' ? className : undefined;
}

export function groupSignature(failure: {
  payload: JsonValue | undefined;
  exception: string;
  error: string;
  backtrace: readonly string[];
}): GroupSignature {
  return {
    className: payloadClass(failure.payload) ?? UNKNOWN_CLASS,
    exception: failure.exception,
    message: normaliseMessage(failure.error),
    frame: topFrame(failure.backtrace),
  };
}

export function groupId(signature: GroupSignature): string {
  const text = [signature.className, signature.exception, signature.message, signature.frame].join('\n');
  return createHash('sha1').update(text).digest('hex').slice(0, GROUP_ID_LENGTH);
}
