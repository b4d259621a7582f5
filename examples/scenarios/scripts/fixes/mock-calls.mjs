// restore-mocks: sendMail.mockClear() / vi.clearAllMocks() (clearMocks: true); vi.restoreAllMocks() does
// not clear a vi.fn()'s calls in Vitest 4
export default async ({ vitest }) => vitest.vi.clearAllMocks()
