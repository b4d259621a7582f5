const { build } = require('../src/layout');

test('billing builds its list', () => {
  expect(build(1000)).toBe(1000);
});
