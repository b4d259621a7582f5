const { collect } = require('../src/poller');

test('accounts collects samples', () => {
  expect(collect(8000)).toBe(8000);
});
