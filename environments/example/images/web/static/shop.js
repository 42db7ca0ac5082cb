// The page's whole client: the catalogue from GET /api/products, and an
// order of one of each product through POST /api/orders.
async function api(method, path, body) {
  const r = await fetch("/api" + path, {
    method, headers: {"Content-Type": "application/json"},
    body: body === undefined ? undefined : JSON.stringify(body)});
  return {status: r.status, body: await r.json()};
}

let catalogue = [];
api("GET", "/products").then(({body}) => {
  catalogue = body;
  document.getElementById("products").innerHTML = body.map(p =>
    `<li>${p.name}: ${(p.price_cents / 100).toFixed(2)} EUR</li>`).join("");
});

document.getElementById("order").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  const r = await api("POST", "/orders", {
    email: f.get("email"), card: f.get("card"),
    items: catalogue.map(p => ({sku: p.sku, quantity: 1}))});
  document.getElementById("result").textContent =
    r.status + "\n" + JSON.stringify(r.body, null, 2);
});
