// A poller started at import and never stopped (unref'd, so it does not keep the process up): Jest's node
// environment gives test files the worker's real timers, so the interval (and its closure: this module's samples,
// and with them the file's module registry) outlives the file.
class Sample {
  constructor(i) {
    this.at = i;
    this.note = `sample ${i}`.padEnd(40, '-');
  }
}

const samples = [];

function collect(n) {
  for (let i = 0; i < n; i++) samples.push(new Sample(i));
  return samples.length;
}

const poll = setInterval(() => samples.length, 60_000);
poll.unref();

module.exports = { collect, poll };
