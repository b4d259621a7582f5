const { sum } = require('../src/sum');

test('accounts sums', () => {
  expect(sum(1000)).toBe(499500);
});
