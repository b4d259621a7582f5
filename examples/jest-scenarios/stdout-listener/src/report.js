// A progress reporter that redraws on terminal resize. Every test file that loads it adds a listener to the
// worker's real process.stdout (Jest gives each file a copy of `process`, but stdout is the worker's own) and
// never removes it: the listener's closure keeps this module instance, and with it the file's whole module
// registry, Runtime and environment, alive after the file ends.
class Row {
  constructor(i) {
    this.id = i;
    this.text = `row ${i} `.padEnd(48, '.');
  }
}

const rows = [];

function track(n) {
  for (let i = 0; i < n; i++) rows.push(new Row(i));
  return rows.length;
}

function redraw() {
  return rows.length;
}

process.stdout.on('resize', redraw);

module.exports = { track, redraw };
