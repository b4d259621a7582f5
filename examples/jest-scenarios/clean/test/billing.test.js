const { sum } = require('../src/sum');

test('billing sums', () => {
  expect(sum(1000)).toBe(499500);
});
