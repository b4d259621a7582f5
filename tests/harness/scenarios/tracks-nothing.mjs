// Does real work but tracks nothing, so a planted leak cannot be seen either.
const sink = [];
export default function iteration({ iteration }) {
  sink.length = 0;
  sink.push({ iteration });
}
