import { expect, test } from 'vitest'
import { validate } from '../src/validate.js'

// Form field 071: 200 values through the `short` rule (each call leaves a small audit entry behind).
test('field 071 accepts valid short values', () => {
  for (let i = 0; i < 200; i++) expect(validate('short', `v71-${i}`)).toBe(true)
})
