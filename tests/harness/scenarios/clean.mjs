// Allocates and drops: nothing should survive.
import { track } from 'heaplens/track';

export default async function iteration({ iteration }) {
  const buf = track({ data: new Array(1000).fill(iteration) }, 'scratch');
  await new Promise((r) => setImmediate(r));
  return buf.data.length;
}
