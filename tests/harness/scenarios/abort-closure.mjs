// The shape of OpenClaw's abort-path leak (issue #74182): each run allocates a large transcript
// and registers an abort callback. In the pre-fix shape the callback is an inline closure kept in
// a module-level list of listeners, so every run's transcript stays reachable; the fixed shape
// uses a module-scope helper and removes the listener when the run ends.
import { track } from 'heaplens/track';

const listeners = []; // module-level: lives as long as the process

class RunScope {
  constructor(i) {
    this.id = i;
    this.transcript = new Uint8Array(64 * 1024); // 64 KiB per run
    this.toolMetas = Array.from({ length: 16 }, (_, k) => ({ k, run: i }));
  }
}

function onAbortHelper(controller) {
  // module-scope helper: captures only the controller, not the run scope
  controller.abort();
}

export const modes = {
  'pre-fix': async ({ iteration }) => {
    const scope = track(new RunScope(iteration), 'RunScope');
    const controller = new AbortController();
    listeners.push(() => { if (scope.transcript.length) controller.abort(); }); // closes over scope
    await Promise.resolve();
  },
  fixed: async ({ iteration }) => {
    const scope = track(new RunScope(iteration), 'RunScope');
    const controller = new AbortController();
    const listener = onAbortHelper.bind(null, controller);
    listeners.push(listener);
    await Promise.resolve(scope.id);
    listeners.splice(listeners.indexOf(listener), 1); // cleanup when the run ends
  },
};
