const { collect } = require('../src/poller');

test('billing collects samples', () => {
  expect(collect(8000)).toBe(8000);
});
