/**
 * Byte-preserving edits of JSON text. A failure record written by Ruby carries numbers JavaScript cannot round-trip
 * (`1.0`, `9007199254740993`); retrying it must append `retried_at` and re-push its args without re-encoding them.
 * These helpers find member boundaries in text that JSON.parse has already accepted.
 */

/** One member of a JSON object: its decoded key and where its value's text starts and ends. */
export interface RawMember {
  key: string;
  valueStart: number;
  valueEnd: number;
}

export interface RawObject {
  members: RawMember[];
  /** Position of the object's closing brace. */
  close: number;
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);

function skipWhitespace(text: string, at: number): number {
  let i = at;
  while (i < text.length && WHITESPACE.has(text[i]!)) i++;
  return i;
}

function skipString(text: string, at: number): number {
  if (text[at] !== '"') throw new SyntaxError(`expected a string at ${at}`);
  let i = at + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') i += 2;
    else if (c === '"') return i + 1;
    else i++;
  }
  throw new SyntaxError('unterminated string');
}

function skipContainer(text: string, at: number): number {
  let depth = 0;
  let i = at;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      i = skipString(text, i);
      continue;
    }
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
    i++;
  }
  throw new SyntaxError('unterminated object or array');
}

/** Position just past the value starting at `at`. */
function skipValue(text: string, at: number): number {
  const c = text[at];
  if (c === '"') return skipString(text, at);
  if (c === '{' || c === '[') return skipContainer(text, at);
  let i = at;
  while (i < text.length && /[-+0-9.eEa-z]/.test(text[i]!)) i++;
  if (i === at) throw new SyntaxError(`expected a value at ${at}`);
  return i;
}

/** The top-level members of the object whose text starts at `start` (default: the whole text). */
export function rawObject(text: string, start = 0): RawObject {
  let i = skipWhitespace(text, start);
  if (text[i] !== '{') throw new SyntaxError('expected an object');
  const members: RawMember[] = [];
  i = skipWhitespace(text, i + 1);
  if (text[i] === '}') return { members, close: i };
  for (;;) {
    const keyEnd = skipString(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipWhitespace(text, keyEnd);
    if (text[i] !== ':') throw new SyntaxError(`expected ":" at ${i}`);
    const valueStart = skipWhitespace(text, i + 1);
    const valueEnd = skipValue(text, valueStart);
    members.push({ key, valueStart, valueEnd });
    i = skipWhitespace(text, valueEnd);
    if (text[i] === '}') return { members, close: i };
    if (text[i] !== ',') throw new SyntaxError(`expected "," or "}" at ${i}`);
    i = skipWhitespace(text, i + 1);
  }
}

/** The text of member `key` of the object at `start`, or undefined. */
export function rawMember(text: string, key: string, start = 0): RawMember | undefined {
  return rawObject(text, start).members.find((member) => member.key === key);
}

/**
 * Sets a top-level string member without touching the other bytes: replaced in place when present (where Ruby's
 * Hash#[]= keeps it), appended as the last key otherwise.
 */
export function withStringMember(text: string, key: string, value: string): string {
  return withRawMember(text, key, JSON.stringify(value));
}

/** Sets a top-level member to already encoded JSON `encoded`, the same way: in place, or appended as the last key. */
export function withRawMember(text: string, key: string, encoded: string): string {
  const object = rawObject(text);
  const existing = object.members.find((member) => member.key === key);
  if (existing) return text.slice(0, existing.valueStart) + encoded + text.slice(existing.valueEnd);
  const separator = object.members.length > 0 ? ',' : '';
  return `${text.slice(0, object.close)}${separator}${JSON.stringify(key)}:${encoded}${text.slice(object.close)}`;
}

/** Drops insignificant whitespace (outside strings), keeping every other byte, numbers included. */
export function compactJson(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      const end = skipString(text, i);
      out += text.slice(i, end);
      i = end;
    } else {
      if (!WHITESPACE.has(c)) out += c;
      i++;
    }
  }
  return out;
}
