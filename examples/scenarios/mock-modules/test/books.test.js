import { beforeEach, describe, expect, test, vi } from 'vitest'
import * as client from '../src/catalog-client.js'
import { cheapestIn } from '../src/pricing.js'
import { products } from './fixtures.js'

// The catalog client is replaced by a mock module; each test feeds its mock a large product
// fixture. Vitest keeps every vi.fn() it has created in the worker, so under isolate=false each
// file's mock — with the value it resolves to — outlives the file (the fix: vi.resetAllMocks() in
// afterEach, or mockReset: true in the config).
vi.mock('../src/catalog-client.js', () => ({ fetchProducts: vi.fn() }))

describe('books pricing', () => {
  beforeEach(() => {
    client.fetchProducts.mockResolvedValue(products('books', 8000))
  })

  test('finds the cheapest product', async () => {
    const best = await cheapestIn(client, 'books')
    expect(best.price).toBe(100)
    expect(client.fetchProducts).toHaveBeenCalledWith('books')
  })
})
