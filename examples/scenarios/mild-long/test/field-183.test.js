import { expect, test } from 'vitest'
import { validate } from '../src/validate.js'

// Form field 183: 200 values through the `short` rule (each call leaves a small audit entry behind).
test('field 183 accepts valid short values', () => {
  for (let i = 0; i < 200; i++) expect(validate('short', `v183-${i}`)).toBe(true)
})
