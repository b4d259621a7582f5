export class ProductFixture {
  constructor(category, n) {
    this.sku = `${category}-${n}`
    this.category = category
    this.price = 100 + ((n * 7919) % 9000)
    this.description = `${category} product ${n} `.padEnd(200, '*')
  }
}

export function products(category, count) {
  return Array.from({ length: count }, (_, n) => new ProductFixture(category, n))
}
