// Nothing outlives a test file: module-level data only, no listener, timer or shared cache.
const table = Array.from({ length: 60000 }, (_, i) => i);

function sum(n) {
  let s = 0;
  for (let i = 0; i < n; i++) s += table[i];
  return s;
}

module.exports = { sum };
