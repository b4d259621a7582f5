// clear-timer: poller.stop() — clearInterval on every interval the tests started
export default async ({ timers }) => {
  for (const timer of timers()) clearInterval(timer)
}
