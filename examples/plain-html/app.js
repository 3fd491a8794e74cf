// Plain HTML example shop: a cart in localStorage and the GA4 e-commerce dataLayer pushes a
// typical store already makes (nudge maps view_item, add_to_cart, begin_checkout, purchase).
window.dataLayer = window.dataLayer || [];
// Storage may be blocked (private modes, strict settings): the shop then keeps the cart
// for the page only, as nudge does.
const storage = (() => { try { return window.localStorage; } catch { return null; } })();
const cart = JSON.parse((storage && storage.getItem('plain-cart')) || '[]');
const save = () => { try { storage && storage.setItem('plain-cart', JSON.stringify(cart)); } catch { /* full or blocked */ } };
const count = document.getElementById('count');
if (count) count.textContent = String(cart.reduce((n, l) => n + l.quantity, 0));

const product = document.querySelector('.product');
if (product) {
  const item = {
    item_id: product.dataset.id,
    item_name: product.dataset.name,
    price: Number(product.dataset.price),
    quantity: 1,
  };
  dataLayer.push({ event: 'view_item', ecommerce: { currency: product.dataset.currency, value: item.price, items: [item] } });
  document.getElementById('add').addEventListener('click', () => {
    cart.push(item);
    save();
    count.textContent = String(cart.length);
    dataLayer.push({ event: 'add_to_cart', ecommerce: { currency: product.dataset.currency, value: item.price, items: [item] } });
  });
}

const lines = document.getElementById('lines');
if (lines) {
  for (const l of cart) {
    const li = document.createElement('li');
    li.textContent = `${l.item_name} — ₩${l.price.toLocaleString('en')}`;
    lines.append(li);
  }
  const value = cart.reduce((s, l) => s + l.price, 0);
  dataLayer.push({ event: 'view_cart', ecommerce: { currency: 'KRW', value, items: cart } });
  document.getElementById('checkout').addEventListener('click', () => {
    dataLayer.push({ event: 'begin_checkout', ecommerce: { currency: 'KRW', value, items: cart } });
    dataLayer.push({ event: 'purchase', ecommerce: { transaction_id: 'T' + Date.now(), currency: 'KRW', value, items: cart } });
    cart.length = 0;
    save();
    document.getElementById('done').hidden = false;
  });
}
