// An active-record style base class: every model instance registers itself in a class-level
// identity map, so that find() can return the same object for the same id. Model.reset() empties it;
// the tests never call it, so every record created by every file stays reachable from the class.
export class Model {
  static registry = new Map()

  static find(id) {
    return Model.registry.get(id) ?? null
  }

  static reset() {
    Model.registry.clear()
  }

  constructor(id, attributes) {
    this.id = id
    this.attributes = attributes
    Model.registry.set(`${this.constructor.name}:${id}`, this)
  }
}

export class Invoice extends Model {
  get total() {
    return this.attributes.lines.reduce((sum, l) => sum + l.amount, 0)
  }
}

export class Customer extends Model {}
