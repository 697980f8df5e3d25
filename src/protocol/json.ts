import { InvalidArgumentsError } from '../errors/index.js';

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * Throws InvalidArgumentsError unless `value` survives a JSON round trip unchanged: only plain objects, arrays,
 * strings, finite numbers, booleans and null. `path` names the value in the message (`args[0].when`).
 */
export function assertJsonSafe(
  value: unknown,
  path: string,
  seen: Set<object> = new Set(),
): asserts value is JsonValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value))
        throw new InvalidArgumentsError(path, `is ${String(value)}, which JSON cannot carry`);
      return;
    case 'undefined':
      throw new InvalidArgumentsError(path, 'is undefined, which JSON cannot carry (use null)');
    case 'function':
      throw new InvalidArgumentsError(path, 'is a function, which JSON cannot carry');
    case 'symbol':
      throw new InvalidArgumentsError(path, 'is a symbol, which JSON cannot carry');
    case 'bigint':
      throw new InvalidArgumentsError(path, 'is a BigInt, which JSON cannot carry (pass it as a string)');
  }
  if (value === null) return;
  const object = value as object;
  if (seen.has(object))
    throw new InvalidArgumentsError(path, 'refers back to itself (a cycle), which JSON cannot carry');
  seen.add(object);
  if (Array.isArray(object)) {
    for (let i = 0; i < object.length; i++) {
      if (!(i in object)) throw new InvalidArgumentsError(`${path}[${i}]`, 'is a hole in a sparse array');
      assertJsonSafe(object[i], `${path}[${i}]`, seen);
    }
  } else {
    const proto = Object.getPrototypeOf(object);
    if (proto !== Object.prototype && proto !== null) {
      const kind = (object.constructor as { name?: string } | undefined)?.name || 'object';
      throw new InvalidArgumentsError(
        path,
        `is a ${kind}, which would lose its type in JSON (pass a plain value)`,
      );
    }
    for (const [key, inner] of Object.entries(object)) assertJsonSafe(inner, `${path}.${key}`, seen);
    if (Object.getOwnPropertySymbols(object).length > 0) {
      throw new InvalidArgumentsError(path, 'has symbol keys, which JSON cannot carry');
    }
  }
  seen.delete(object);
}

/**
 * assertJsonSafe for an argument list, without its bookkeeping when every argument is a string, a finite number, a
 * boolean or null (most jobs' arguments): anything else gets the full check, and its message.
 */
export function assertArgsJsonSafe(args: readonly unknown[], path: string): asserts args is JsonValue[] {
  if (!Array.isArray(args)) return assertJsonSafe(args, path);
  for (let i = 0; i < args.length; i++) {
    const value = args[i];
    const type = typeof value;
    if (type === 'string' || type === 'boolean' || value === null) continue;
    if (type === 'number' && Number.isFinite(value)) continue;
    assertJsonSafe(args, path);
    return;
  }
}

/** JSON round trip, as a worker will see the value (inline mode uses it so tests see real types). */
export function roundTrip<T extends JsonValue>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
