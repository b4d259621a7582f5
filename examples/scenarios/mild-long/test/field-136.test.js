import { expect, test } from 'vitest'
import { validate } from '../src/validate.js'

// Form field 136: 200 values through the `email` rule (each call leaves a small audit entry behind).
test('field 136 accepts valid email values', () => {
  for (let i = 0; i < 200; i++) expect(validate('email', `user${i}.n136@example.test`)).toBe(true)
})
