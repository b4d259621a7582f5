const { build } = require('../src/layout');

test('orders builds its list', () => {
  expect(build(1000)).toBe(1000);
});
