// Campaign sets used by the end-to-end tests (the same schema a marketer writes).

const theme = { background: '#ffffff', text: '#111827', accent: '#b91c1c', accent_text: '#ffffff', radius: 16 };

/** Viewed the same product three times this session → a bottom modal with a coupon. */
export const thirdView = (overlay = true) => ({
  schema: 1,
  campaigns: [{
    id: 'third-view',
    name: 'Third product view',
    placement: { type: 'modal', overlay },
    trigger: { count: { event: 'Product Viewed', at_least: 3, within: 'session', same: 'product_id' } },
    content: {
      headline: { en: 'Still thinking about {{name}}?', ko: '{{name}}, 아직 고민 중이신가요?' },
      body: { en: 'Take 10% off your first order today.', ko: '오늘 첫 주문 10% 할인 쿠폰을 드려요.' },
      coupon: 'STILL10',
      cta: { label: { en: 'Go to cart', ko: '장바구니 보기' }, url: '/examples/plain-html/cart.html' },
      theme,
    },
    caps: { per_session: 1, after_dismiss: '1d' },
  }],
});

/** Added to cart, kept browsing 60 s without checkout → a time-deal bar with a countdown. */
export const timeDeal = {
  schema: 1,
  campaigns: [{
    id: 'time-deal',
    placement: { type: 'bar', position: 'top', mode: 'push' },
    trigger: { sequence: { first: 'Product Added', then_not: 'Checkout Started', within: '60s' } },
    content: {
      headline: { en: 'Time deal: free shipping on your cart', ko: '타임딜: 장바구니 무료 배송' },
      countdown: { minutes: 15 },
      cta: { label: { en: 'Check out', ko: '주문하기' }, url: '/examples/plain-html/cart.html' },
      theme: { ...theme, background: '#111827', text: '#f9fafb', accent: '#fbbf24', accent_text: '#111827', radius: 8 },
    },
  }],
};

/** The pointer leaves through the top edge → a modal. */
export const exitIntent = {
  schema: 1,
  campaigns: [{
    id: 'exit',
    placement: { type: 'modal' },
    trigger: { exit_intent: true },
    content: { headline: 'Wait! Free shipping ends tonight', cta: { label: 'Keep shopping', action: 'close' } },
  }],
};

/** 5 s on a product page → a bar (for SPA navigation cancelling it). */
export const delayed = {
  schema: 1,
  campaigns: [{
    id: 'delayed',
    placement: { type: 'bar', position: 'bottom', mode: 'overlay' },
    trigger: { all: [{ page: { path_prefix: '/examples/spa/product/' } }, { time_on_page: '5s' }] },
    content: { headline: 'Questions about this product? Chat with us' },
  }],
};

/** Shown on any page view (for environment tests: CSP, hostile CSS, storage). */
export const welcome = (placement = { type: 'modal' }) => ({
  schema: 1,
  campaigns: [{
    id: 'welcome',
    placement,
    trigger: { event: 'Page Viewed' },
    content: { headline: 'Welcome! 10% off today', coupon: 'HELLO10', cta: { label: 'Shop now', url: '/examples/plain-html/' } },
  }],
});
