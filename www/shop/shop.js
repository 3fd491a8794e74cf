// nudge demo storefront: a small bilingual (English/Korean) shop with a product list,
// product pages, a cart and a checkout. Like a real store it only pushes GA4 e-commerce
// events to the dataLayer; nudge (loaded by the script tag) does the rest. The shop's
// language is handed to nudge through the pre-load queue.
const PRODUCTS = [
  { id: 'linen-shirt', price: 59000, hue: 35, en: ['Linen Shirt', 'Breathable washed linen, relaxed fit.'], ko: ['린넨 셔츠', '통기성 좋은 워싱 린넨, 여유로운 핏.'] },
  { id: 'wool-cardigan', price: 89000, hue: 210, en: ['Wool Cardigan', 'Soft merino wool for cool evenings.'], ko: ['울 가디건', '쌀쌀한 저녁을 위한 부드러운 메리노 울.'] },
  { id: 'canvas-sneakers', price: 69000, hue: 140, en: ['Canvas Sneakers', 'Everyday sneakers with a cushioned sole.'], ko: ['캔버스 스니커즈', '쿠션감 있는 밑창의 데일리 스니커즈.'] },
  { id: 'leather-tote', price: 129000, hue: 15, en: ['Leather Tote', 'Full-grain leather, fits a 14" laptop.'], ko: ['가죽 토트백', '풀그레인 가죽, 14인치 노트북 수납.'] },
];
const T = {
  en: { shop: 'Nudge Store', cart: 'Cart', add: 'Add to cart', added: 'Added to cart', empty: 'Your cart is empty.', total: 'Total', checkout: 'Check out', pay: 'Place order', thanks: 'Thank you! Your order is confirmed.', products: 'New arrivals', name: 'Name', address: 'Address', lang: '한국어', shipping: 'Free shipping over ₩50,000' },
  ko: { shop: '넛지 스토어', cart: '장바구니', add: '장바구니 담기', added: '장바구니에 담았어요', empty: '장바구니가 비어 있어요.', total: '합계', checkout: '주문하기', pay: '결제하기', thanks: '감사합니다! 주문이 완료되었어요.', products: '신상품', name: '이름', address: '주소', lang: 'English', shipping: '5만원 이상 무료 배송' },
};

const params = new URLSearchParams(location.search);
const storage = (() => { try { return window.localStorage; } catch { return null; } })();
const get = (k) => { try { return storage && storage.getItem(k); } catch { return null; } };
const put = (k, v) => { try { storage && storage.setItem(k, v); } catch { /* blocked or full */ } };
const lang = params.get('lang') || get('shop-lang') || (navigator.language.toLowerCase().startsWith('ko') ? 'ko' : 'en');
put('shop-lang', lang);
document.documentElement.lang = lang;
const t = T[lang] || T.en;
window.nudge = window.nudge || [];
window.nudge.push(['init', { lang }]);
window.dataLayer = window.dataLayer || [];

const won = (n) => '₩' + n.toLocaleString('en');
const cart = JSON.parse(get('shop-cart') || '[]');
const saveCart = () => put('shop-cart', JSON.stringify(cart));
const item = (p, quantity = 1) => ({ item_id: p.id, item_name: p[lang][0], price: p.price, quantity });
const h = (tag, props = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) (k === 'class' ? (e.className = v) : e.setAttribute(k, v));
  e.append(...kids);
  return e;
};
const photo = (p, big) => {
  const d = h('div', { class: 'photo' + (big ? ' big' : ''), role: 'img', 'aria-label': p[lang][0] });
  d.classList.add('hue-' + p.hue);
  return d;
};

function header() {
  const count = cart.reduce((n, l) => n + l.quantity, 0);
  const other = lang === 'ko' ? 'en' : 'ko';
  return h('header', { class: 'bar' },
    h('a', { href: 'index.html', class: 'brand' }, t.shop),
    h('span', { class: 'promo' }, t.shipping),
    h('nav', {}, h('a', { href: '?lang=' + other, class: 'lang' }, t.lang), h('a', { href: 'cart.html', class: 'cart' }, `${t.cart} (${count})`)));
}

const pages = {
  index(main) {
    main.append(h('h1', {}, t.products));
    const grid = h('ul', { class: 'grid' });
    for (const p of PRODUCTS) {
      grid.append(h('li', {}, h('a', { href: 'product.html?id=' + p.id }, photo(p), h('strong', {}, p[lang][0]), h('span', {}, won(p.price)))));
    }
    main.append(grid);
  },
  product(main) {
    const p = PRODUCTS.find((x) => x.id === params.get('id')) || PRODUCTS[0];
    document.title = `${p[lang][0]} — ${t.shop}`;
    const add = h('button', { type: 'button', id: 'add' }, t.add);
    const note = h('p', { class: 'note', role: 'status' });
    add.addEventListener('click', () => {
      const line = cart.find((l) => l.item_id === p.id);
      if (line) line.quantity += 1; else cart.push(item(p));
      saveCart();
      note.textContent = t.added;
      document.querySelector('header').replaceWith(header());
      dataLayer.push({ event: 'add_to_cart', ecommerce: { currency: 'KRW', value: p.price, items: [item(p)] } });
    });
    main.append(h('div', { class: 'product' }, photo(p, true),
      h('section', {}, h('h1', {}, p[lang][0]), h('p', { class: 'price' }, won(p.price)), h('p', {}, p[lang][1]), add, note)));
    dataLayer.push({ event: 'view_item', ecommerce: { currency: 'KRW', value: p.price, items: [item(p)] } });
  },
  cart(main) {
    main.append(h('h1', {}, t.cart));
    const value = cart.reduce((s, l) => s + l.price * l.quantity, 0);
    if (!cart.length) main.append(h('p', {}, t.empty));
    const list = h('ul', { class: 'lines' });
    for (const l of cart) {
      const p = PRODUCTS.find((x) => x.id === l.item_id);
      list.append(h('li', {}, h('span', {}, `${p ? p[lang][0] : l.item_name} × ${l.quantity}`), h('span', {}, won(l.price * l.quantity))));
    }
    main.append(list, h('p', { class: 'total' }, `${t.total} ${won(value)}`));
    if (cart.length) main.append(h('a', { href: 'checkout.html', class: 'button', id: 'checkout' }, t.checkout));
    dataLayer.push({ event: 'view_cart', ecommerce: { currency: 'KRW', value, items: cart } });
  },
  checkout(main) {
    const value = cart.reduce((s, l) => s + l.price * l.quantity, 0);
    dataLayer.push({ event: 'begin_checkout', ecommerce: { currency: 'KRW', value, items: cart } });
    const form = h('form', { class: 'form' },
      h('label', {}, t.name, h('input', { name: 'name', autocomplete: 'name' })),
      h('label', {}, t.address, h('input', { name: 'address', autocomplete: 'street-address' })),
      h('p', { class: 'total' }, `${t.total} ${won(value)}`),
      h('button', { type: 'submit', id: 'pay' }, t.pay));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      dataLayer.push({ event: 'purchase', ecommerce: { transaction_id: 'T' + Date.now(), currency: 'KRW', value, items: [...cart] } });
      cart.length = 0;
      saveCart();
      form.replaceWith(h('p', { class: 'thanks', role: 'status' }, t.thanks));
    });
    main.append(h('h1', {}, t.checkout), form);
  },
};

document.body.prepend(header());
const main = document.querySelector('main');
(pages[document.body.dataset.page] || pages.index)(main);
