// reset-static: afterEach(() => Model.reset()) — Model.registry.clear()
export default async ({ load }) => (await load('src/model.js')).Model.reset()
