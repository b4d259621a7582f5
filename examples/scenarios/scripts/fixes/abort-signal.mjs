// remove-listener: pool.close() — shutdownSignal.removeEventListener('abort', …) for every pool
export default async ({ load, removeAllEventListeners }) =>
  removeAllEventListeners((await load('src/lifecycle.js')).shutdownSignal)
