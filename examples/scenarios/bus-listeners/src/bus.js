import { EventEmitter } from 'node:events'

// The application's event bus: one module-level emitter, shared by every module that imports it.
export const bus = new EventEmitter()
bus.setMaxListeners(0) // many subscribers are expected; this also silences the leak warning
