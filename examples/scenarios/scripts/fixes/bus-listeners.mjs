// remove-listener: unsubscribe() — bus.off('order:placed', …) for every projection
export default async ({ load }) => (await load('src/bus.js')).bus.removeAllListeners('order:placed')
