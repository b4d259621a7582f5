const { warm } = require('../src/lookup');

test('catalog warms its lookups', () => {
  expect(warm('catalog', 8000)).toBe(8000);
});
