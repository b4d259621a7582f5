// clear-timer: outbox.cancelAll() — clearTimeout on every pending retry
export default async ({ timers }) => {
  for (const timer of timers()) clearTimeout(timer)
}
