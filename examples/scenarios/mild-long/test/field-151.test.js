import { expect, test } from 'vitest'
import { validate } from '../src/validate.js'

// Form field 151: 200 values through the `short` rule (each call leaves a small audit entry behind).
test('field 151 accepts valid short values', () => {
  for (let i = 0; i < 200; i++) expect(validate('short', `v151-${i}`)).toBe(true)
})
