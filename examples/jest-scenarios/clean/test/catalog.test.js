const { sum } = require('../src/sum');

test('catalog sums', () => {
  expect(sum(1000)).toBe(499500);
});
