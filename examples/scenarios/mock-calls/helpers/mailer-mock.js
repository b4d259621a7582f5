import { vi } from 'vitest'

// A shared mock for the mailer, defined once in a helper module. With isolate=false the module is
// evaluated once per worker, so its call history (mock.calls, mock.results) spans every test file
// unless something calls sendMail.mockClear() / vi.clearAllMocks() / vi.restoreAllMocks().
export const sendMail = vi.fn(async (envelope) => ({ accepted: [envelope.to] }))
