// SPA example: History API routing without a framework. Calls to nudge made before the
// SDK has loaded go into its pre-load queue (the stub below), so none are lost.
// `push` works on the queue before load and on the loaded API after, so one call fits both.
window.nudge = window.nudge || [];
const track = (name, props) => window.nudge.push(['track', name, props]);

const PRODUCTS = {
  mug: { name: 'Stoneware Mug', price: 18000 },
  tote: { name: 'Canvas Tote', price: 25000 },
};
const BASE = '/examples/spa';
const view = document.getElementById('view');

function render() {
  const path = location.pathname.replace(BASE, '') || '/';
  view.replaceChildren();
  const h1 = document.createElement('h1');
  view.append(h1);
  const m = path.match(/^\/product\/(\w+)$/);
  if (m && PRODUCTS[m[1]]) {
    const p = PRODUCTS[m[1]];
    h1.textContent = p.name;
    const price = document.createElement('p');
    price.textContent = `₩${p.price.toLocaleString('en')}`;
    const add = document.createElement('button');
    add.textContent = 'Add to cart';
    add.addEventListener('click', () => track('Product Added', { product_id: m[1], name: p.name, price: p.price }));
    view.append(price, add);
    document.title = `${p.name} — SPA shop`;
    track('Product Viewed', { product_id: m[1], product_name: p.name, price: p.price });
  } else if (path === '/cart') {
    h1.textContent = 'Cart';
    document.title = 'Cart — SPA shop';
    track('Cart Viewed', {});
  } else {
    h1.textContent = 'Welcome';
    document.title = 'SPA shop';
  }
}

document.addEventListener('click', (e) => {
  const a = e.target.closest('a[data-link]');
  if (!a || e.metaKey || e.ctrlKey) return;
  e.preventDefault();
  if (a.pathname !== location.pathname) {
    history.pushState({}, '', a.pathname);
    render();
  }
});
window.addEventListener('popstate', render);
render();
