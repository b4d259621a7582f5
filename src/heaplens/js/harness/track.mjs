// heaplens harness — what a scenario imports:  import { track } from 'heaplens/track';
//
// track(obj, label) registers an object the scenario expects to be garbage-collected once an
// iteration is over. The harness counts how many were finalized (FinalizationRegistry) and finds
// the survivors in its heap snapshots through the WeakRefs kept in globalThis.__heaplensTrackedRefs.

const state = (globalThis.__heaplensHarness ??= {
  tracked: 0,
  finalized: 0,
  byLabel: {},
  finalizedByLabel: {},
  synthetic: null, // sensitivity run: an array that keeps every tracked object (a planted leak)
});
const refs = (globalThis.__heaplensTrackedRefs ??= []);
const registry = (state.registry ??= new FinalizationRegistry((label) => {
  state.finalized++;
  state.finalizedByLabel[label] = (state.finalizedByLabel[label] || 0) + 1;
}));

export function track(obj, label = 'tracked') {
  if (obj === null || (typeof obj !== 'object' && typeof obj !== 'function')) {
    throw new TypeError(`heaplens track(): expected an object or a function, got ${obj === null ? 'null' : typeof obj}`);
  }
  label = String(label);
  state.tracked++;
  state.byLabel[label] = (state.byLabel[label] || 0) + 1;
  registry.register(obj, label);
  refs.push(new WeakRef(obj));
  if (state.synthetic) state.synthetic.push(obj);
  return obj;
}

export function trackedCounts() {
  return {
    tracked: state.tracked,
    finalized: state.finalized,
    byLabel: { ...state.byLabel },
    finalizedByLabel: { ...state.finalizedByLabel },
  };
}
