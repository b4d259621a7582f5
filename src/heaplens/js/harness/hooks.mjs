// Module resolution hook: `heaplens/track` (and `heaplens/harness`) → the harness's track.mjs.
const TRACK = new URL('./track.mjs', import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'heaplens/track' || specifier === 'heaplens/harness' || specifier === 'heaplens') {
    return { url: TRACK, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}
