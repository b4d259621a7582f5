const { warm } = require('../src/lookup');

test('billing warms its lookups', () => {
  expect(warm('billing', 8000)).toBe(8000);
});
