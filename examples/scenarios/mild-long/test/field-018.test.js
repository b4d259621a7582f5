import { expect, test } from 'vitest'
import { validate } from '../src/validate.js'

// Form field 018: 200 values through the `slug` rule (each call leaves a small audit entry behind).
test('field 018 accepts valid slug values', () => {
  for (let i = 0; i < 200; i++) expect(validate('slug', `field-018-${i}`)).toBe(true)
})
