// A real OpenTelemetry SDK for tests: the application's side of tracing (tracer provider, context manager, W3C
// propagator), with spans kept in memory to be read back.
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

export interface InstalledTracing {
  readonly exporter: InMemorySpanExporter;
  /** Spans finished so far with this name prefix (`enqueue`, `schedule`, `perform`, or an application span's). */
  spans(prefix: string): ReadableSpan[];
  uninstall(): Promise<void>;
}

/** Registers the SDK globally, as an application's tracing setup does. */
export function installTracing(): InstalledTracing {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return {
    exporter,
    spans: (prefix) => exporter.getFinishedSpans().filter((span) => span.name.startsWith(prefix)),
    async uninstall() {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/** The W3C traceparent a span's context is carried as. */
export function traceparentOf(span: ReadableSpan): string {
  const { traceId, spanId } = span.spanContext();
  return `00-${traceId}-${spanId}-01`;
}
