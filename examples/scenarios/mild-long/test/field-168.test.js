import { expect, test } from 'vitest'
import { validate } from '../src/validate.js'

// Form field 168: 200 values through the `email` rule (each call leaves a small audit entry behind).
test('field 168 accepts valid email values', () => {
  for (let i = 0; i < 200; i++) expect(validate('email', `user${i}.n168@example.test`)).toBe(true)
})
