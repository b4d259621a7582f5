// Tracing: spans are buffered per tracer and written out when the global telemetry target
// dispatches 'flush'. The target lives on globalThis so that every bundle shares it.
export class Span {
  constructor(tracer, name, attributes) {
    this.tracer = tracer
    this.name = name
    this.attributes = attributes
    this.start = performance.now()
    this.end = null
  }
}

export function telemetry() {
  return (globalThis.__telemetry ??= new EventTarget())
}

export function createTracer(name) {
  const spans = []
  const flush = () => { spans.length = 0 }
  telemetry().addEventListener('flush', flush)
  return {
    span(spanName, attributes) {
      const span = new Span(name, spanName, attributes)
      spans.push(span)
      span.end = performance.now()
      return span
    },
    spans,
    shutdown: () => telemetry().removeEventListener('flush', flush),
  }
}
