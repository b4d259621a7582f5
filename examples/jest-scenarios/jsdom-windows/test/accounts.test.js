const { build } = require('../src/layout');

test('accounts builds its list', () => {
  expect(build(1000)).toBe(1000);
});
