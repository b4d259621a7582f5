// map-clear: resolver.clear() — resolver.memo.clear()
export default async ({ load }) => (await load('src/routes.js')).resolver.clear()
