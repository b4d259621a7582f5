import { expect, test } from 'vitest'
import { validate } from '../src/validate.js'

// Form field 022: 200 values through the `slug` rule (each call leaves a small audit entry behind).
test('field 022 accepts valid slug values', () => {
  for (let i = 0; i < 200; i++) expect(validate('slug', `field-022-${i}`)).toBe(true)
})
