import { expect, test } from 'vitest'
import { validate } from '../src/validate.js'

// Form field 088: 200 values through the `email` rule (each call leaves a small audit entry behind).
test('field 088 accepts valid email values', () => {
  for (let i = 0; i < 200; i++) expect(validate('email', `user${i}.n088@example.test`)).toBe(true)
})
