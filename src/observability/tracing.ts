// OpenTelemetry spans for enqueues and performs (docs/operations.md, "Traces"). `@opentelemetry/api` is an optional
// peer dependency: this module only names its types, and loads it with a dynamic import() the first time tracing,
// switched on, is needed. With tracing off nothing here runs; callers test one field before reaching it.
import { createRequire } from 'node:module';
import { ConfigError } from '../errors/index.js';
import type { JsonObject, JsonValue } from '../protocol/json.js';
import { VERSION } from '../version.js';
import { errorOf, isFailure, type Outcome } from '../worker/outcome.js';

type OtelApi = typeof import('@opentelemetry/api');
type OtelSpan = import('@opentelemetry/api').Span;
type OtelTracer = import('@opentelemetry/api').Tracer;

const API_PACKAGE = '@opentelemetry/api';
const SYSTEM = 'resque';
/** How long a process about to exit waits for the application's span processor to send what it holds. */
const FLUSH_LIMIT_MS = 2000;

/** What a producer span says about the jobs it sends. */
export interface ProducerSpan {
  /** `enqueue` for a queue push, `schedule` for delayed jobs filed for later. */
  operation: 'enqueue' | 'schedule';
  queue: string;
  className: string;
  /** Ids of the jobs sent (none in strict mode): the one id for a single job. */
  jobIds: ReadonlyArray<string | undefined>;
}

/** What a consumer span says about the job it performs. */
export interface ConsumerSpan {
  queue: string;
  className: string;
  jobId: string | undefined;
  attempt: number;
  returns: number;
  workerId: string;
}

/** The carrier written as a payload's `"trace"`: W3C `traceparent` and `tracestate`, or what the propagator sets. */
export type TraceCarrier = JsonObject;

/** Loads the tracer on first use: what a client or a worker keeps when tracing is on. */
export type TracerSource = () => Promise<JobTracer>;

/** Spans of resque-ts's own work, on the application's global tracer provider and propagator. */
export class JobTracer {
  private readonly api: OtelApi;
  private readonly tracer: OtelTracer;

  /** `api` is the `@opentelemetry/api` module (typed loosely so that the package stays optional for type users too). */
  constructor(api: unknown) {
    this.api = api as OtelApi;
    this.tracer = this.api.trace.getTracer('resque-ts', VERSION);
  }

  /**
   * A PRODUCER span around `send`, which gets the carrier of the span's context to write into each payload (undefined
   * when the application registered no propagator). One span covers a batch: every job of it carries its context.
   */
  produce<T>(info: ProducerSpan, send: (trace: TraceCarrier | undefined) => Promise<T>): Promise<T> {
    const { api } = this;
    const single = info.jobIds.length === 1;
    const attributes: Record<string, string | number> = {
      'messaging.system': SYSTEM,
      'messaging.destination.name': info.queue,
      'messaging.operation.type': 'send',
      'messaging.operation.name': info.operation,
      'resque.job.class': info.className,
    };
    const id = info.jobIds[0];
    if (single && id !== undefined) attributes['messaging.message.id'] = id;
    if (!single) attributes['messaging.batch.message_count'] = info.jobIds.length;
    return this.tracer.startActiveSpan(
      `${info.operation} ${info.queue}`,
      { kind: api.SpanKind.PRODUCER, attributes },
      async (span) => {
        try {
          const carrier: Record<string, string> = {};
          api.propagation.inject(api.context.active(), carrier);
          return await send(Object.keys(carrier).length > 0 ? carrier : undefined);
        } catch (error) {
          this.markError(span, error instanceof Error ? error : new Error(String(error)));
          throw error;
        } finally {
          span.end();
        }
      },
    );
  }

  /**
   * A CONSUMER span around one perform, child of the context its payload carries (a new trace when it carries none),
   * active while the job runs so the job's own spans nest under it; its status and attributes say how the job ended.
   */
  consume(
    info: ConsumerSpan,
    trace: JsonValue | undefined,
    perform: () => Promise<Outcome>,
  ): Promise<Outcome> {
    const { api } = this;
    const parent = isCarrier(trace) ? api.propagation.extract(api.ROOT_CONTEXT, trace) : api.ROOT_CONTEXT;
    const attributes: Record<string, string | number> = {
      'messaging.system': SYSTEM,
      'messaging.destination.name': info.queue,
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'perform',
      'resque.job.class': info.className,
      'resque.job.attempt': info.attempt,
      'resque.job.returns': info.returns,
      'resque.worker.id': info.workerId,
    };
    if (info.jobId !== undefined) attributes['messaging.message.id'] = info.jobId;
    return this.tracer.startActiveSpan(
      `perform ${info.queue}`,
      { kind: api.SpanKind.CONSUMER, attributes },
      parent,
      async (span) => {
        try {
          const outcome = await perform();
          this.markOutcome(span, outcome);
          return outcome;
        } catch (error) {
          this.markError(span, error instanceof Error ? error : new Error(String(error)));
          throw error;
        } finally {
          span.end();
        }
      },
    );
  }

  /**
   * Asks the application's tracer provider to send the spans it holds, before a process exits without the
   * application's own shutdown (a supervised child leaving, a worker stopping); bounded, and quiet if it cannot.
   */
  async flush(): Promise<void> {
    const provider = this.api.trace.getTracerProvider() as { getDelegate?: () => unknown };
    const target = (provider.getDelegate?.() ?? provider) as { forceFlush?: () => Promise<void> };
    if (typeof target.forceFlush !== 'function') return;
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, FLUSH_LIMIT_MS);
      timer.unref();
    });
    try {
      await Promise.race([target.forceFlush().catch(() => {}), limit]);
    } finally {
      clearTimeout(timer);
    }
  }

  private markOutcome(span: OtelSpan, outcome: Outcome): void {
    span.setAttribute('resque.job.outcome', outcome.kind);
    if (outcome.kind === 'retrying') span.setAttribute('resque.job.retry_delay_ms', outcome.delayMs);
    if (outcome.kind === 'given-back' && outcome.rateLimitedMs !== undefined)
      span.setAttribute('resque.job.rate_limited_ms', outcome.rateLimitedMs);
    if (isFailure(outcome)) this.markError(span, errorOf(outcome.failure));
  }

  private markError(span: OtelSpan, error: Error): void {
    span.recordException(error);
    span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: `${error.name}: ${error.message}` });
  }
}

function isCarrier(value: JsonValue | undefined): value is Record<string, string> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

let loading: Promise<JobTracer> | undefined;

/** The process's JobTracer, loading `@opentelemetry/api` the first time; a ConfigError when it is not installed. */
export function loadJobTracer(): Promise<JobTracer> {
  loading ??= tracerFrom(API_PACKAGE).catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

/** Imports the API package, turning its absence into a ConfigError that says what to install. */
async function tracerFrom(specifier: string): Promise<JobTracer> {
  try {
    return new JobTracer(await import(specifier));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') throw missingApi(specifier);
    throw error;
  }
}

/**
 * The tracer source of a client or worker whose config says `tracing`, else undefined. Checks at once (without
 * loading it) that the API package can be found, so switching tracing on without it fails where it is switched on.
 */
export function tracerSourceFor(
  config: { readonly tracing: boolean },
  specifier = API_PACKAGE,
): TracerSource | undefined {
  if (!config.tracing) return undefined;
  try {
    createRequire(import.meta.url).resolve(specifier);
  } catch {
    throw missingApi(specifier);
  }
  return specifier === API_PACKAGE ? loadJobTracer : () => tracerFrom(specifier);
}

function missingApi(specifier: string): ConfigError {
  return new ConfigError(
    'tracing',
    `tracing needs the ${specifier} package, which is not installed (npm install ${specifier}, and register a tracer provider)`,
  );
}
