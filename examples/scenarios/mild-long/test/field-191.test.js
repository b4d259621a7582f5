import { expect, test } from 'vitest'
import { validate } from '../src/validate.js'

// Form field 191: 200 values through the `short` rule (each call leaves a small audit entry behind).
test('field 191 accepts valid short values', () => {
  for (let i = 0; i < 200; i++) expect(validate('short', `v191-${i}`)).toBe(true)
})
