const { collect } = require('../src/poller');

test('catalog collects samples', () => {
  expect(collect(8000)).toBe(8000);
});
