// Per-request context attached without touching the request objects: a module-level WeakMap keyed
// by the request. When a request is dropped its context goes with it — nothing needs clearing.
export class RequestContext {
  constructor(request) {
    this.requestId = request.id
    this.user = `user-${request.id % 1000}`
    this.span = `${request.path}#${request.id}`
  }
}

const contexts = new WeakMap()

export function contextOf(request) {
  let ctx = contexts.get(request)
  if (!ctx) contexts.set(request, (ctx = new RequestContext(request)))
  return ctx
}

export function handle(request) {
  const ctx = contextOf(request)
  return { status: 200, user: ctx.user, span: ctx.span }
}
