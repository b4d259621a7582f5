// Process-wide shutdown: everything that holds resources registers a cleanup on one AbortSignal.
const controller = new AbortController()

export const shutdownSignal = controller.signal

export function onShutdown(cleanup) {
  shutdownSignal.addEventListener('abort', cleanup)
  return () => shutdownSignal.removeEventListener('abort', cleanup)
}

export function shutdown(reason = 'shutdown') {
  controller.abort(reason)
}
