const { sum } = require('../src/sum');

test('orders sums', () => {
  expect(sum(1000)).toBe(499500);
});
