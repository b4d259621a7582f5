const { warm } = require('../src/lookup');

test('orders warms its lookups', () => {
  expect(warm('orders', 8000)).toBe(8000);
});
