// remove-listener: process.removeListener('exit', onExit) for every listener the tests added
export default async ({ exitListenersAdded }) => {
  for (const listener of exitListenersAdded()) process.removeListener('exit', listener)
}
