import { track } from 'heaplens/track';

export default function iteration({ iteration }) {
  track({ iteration }, 'payload');
  if (iteration === 3) throw new Error('scenario exploded on purpose');
}
