import { expect, test } from 'vitest'
import { validate } from '../src/validate.js'

// Form field 161: 200 values through the `digits` rule (each call leaves a small audit entry behind).
test('field 161 accepts valid digits values', () => {
  for (let i = 0; i < 200; i++) expect(validate('digits', String(1000 * 161 + i))).toBe(true)
})
