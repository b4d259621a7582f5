// restore-mocks: vi.resetAllMocks() (mockReset: true) — each file's fetchProducts mock forgets its resolved value
export default async ({ vitest }) => vitest.vi.resetAllMocks()
