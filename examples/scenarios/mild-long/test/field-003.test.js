import { expect, test } from 'vitest'
import { validate } from '../src/validate.js'

// Form field 003: 200 values through the `short` rule (each call leaves a small audit entry behind).
test('field 003 accepts valid short values', () => {
  for (let i = 0; i < 200; i++) expect(validate('short', `v3-${i}`)).toBe(true)
})
