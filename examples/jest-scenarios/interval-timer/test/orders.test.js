const { collect } = require('../src/poller');

test('orders collects samples', () => {
  expect(collect(8000)).toBe(8000);
});
