import { expect, test } from 'vitest'
import { validate } from '../src/validate.js'

// Form field 008: 200 values through the `email` rule (each call leaves a small audit entry behind).
test('field 008 accepts valid email values', () => {
  for (let i = 0; i < 200; i++) expect(validate('email', `user${i}.n008@example.test`)).toBe(true)
})
