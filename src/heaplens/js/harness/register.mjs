// Loaded with `node --import` before the scenario so that `import 'heaplens/track'` resolves.
import { register } from 'node:module';

register(new URL('./hooks.mjs', import.meta.url));
