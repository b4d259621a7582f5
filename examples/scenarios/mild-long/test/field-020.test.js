import { expect, test } from 'vitest'
import { validate } from '../src/validate.js'

// Form field 020: 200 values through the `email` rule (each call leaves a small audit entry behind).
test('field 020 accepts valid email values', () => {
  for (let i = 0; i < 200; i++) expect(validate('email', `user${i}.n020@example.test`)).toBe(true)
})
