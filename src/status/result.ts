import { InvalidArgumentsError } from '../errors/index.js';
import { assertJsonSafe, type JsonValue } from '../protocol/json.js';

/** A tracked job returned a value its status record cannot keep: the job fails with this error, naming the value. */
export class InvalidResultError extends Error {
  override readonly name = 'InvalidResultError';
}

/** A tracked job's result as its record keeps it (undefined: it returned nothing); throws InvalidResultError. */
export function checkedResult(className: string, value: unknown): JsonValue | undefined {
  if (value === undefined) return undefined;
  try {
    assertJsonSafe(value, 'result');
  } catch (error) {
    if (!(error instanceof InvalidArgumentsError)) throw error;
    throw new InvalidResultError(
      `${className} returned a value JSON cannot carry, so its status record cannot keep it: ${withoutPrefix(error)}`,
    );
  }
  return value;
}

/** Throws a TypeError naming what is wrong unless `ctx.progress` may keep `value`. */
export function assertProgress(value: unknown): asserts value is JsonValue {
  try {
    assertJsonSafe(value, 'progress');
  } catch (error) {
    if (!(error instanceof InvalidArgumentsError)) throw error;
    throw new TypeError(`ctx.progress takes a value JSON carries: ${withoutPrefix(error)}`);
  }
}

/** InvalidArgumentsError speaks of job arguments: `Job argument result.when is …` → `result.when is …`. */
function withoutPrefix(error: InvalidArgumentsError): string {
  return error.message.replace(/^Job argument /, '');
}
