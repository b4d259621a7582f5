// remove-listener: watcher.stop() — jobEvents.off('done', …) for every watcher
export default async ({ load }) => (await load('src/jobs.js')).jobEvents.removeAllListeners('done')
