// The HTTP client of the catalog service. Tests replace this module with vi.mock().
export async function fetchProducts(category) {
  const res = await fetch(`https://catalog.internal/categories/${category}/products`)
  return res.json()
}
