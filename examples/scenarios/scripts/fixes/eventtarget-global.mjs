// remove-listener: tracer.shutdown() — removeEventListener('flush', …) on the global telemetry target
export default async ({ removeAllEventListeners }) => removeAllEventListeners(globalThis.__telemetry)
