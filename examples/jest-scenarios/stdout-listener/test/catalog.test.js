const { track } = require('../src/report');

test('catalog renders its rows', () => {
  expect(track(8000)).toBe(8000);
});
