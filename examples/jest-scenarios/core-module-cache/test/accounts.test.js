const { warm } = require('../src/lookup');

test('accounts warms its lookups', () => {
  expect(warm('accounts', 8000)).toBe(8000);
});
