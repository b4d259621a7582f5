import { expect, test } from 'vitest'
import { validate } from '../src/validate.js'

// Form field 163: 200 values through the `short` rule (each call leaves a small audit entry behind).
test('field 163 accepts valid short values', () => {
  for (let i = 0; i < 200; i++) expect(validate('short', `v163-${i}`)).toBe(true)
})
