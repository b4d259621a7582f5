export function cheapest(products) {
  return products.reduce((best, p) => (best === null || p.price < best.price ? p : best), null)
}

export async function cheapestIn(client, category) {
  return cheapest(await client.fetchProducts(category))
}
