// nudge from npm: one import, one call. The campaign below shows a bar once the shopper
// adds the product to the cart (a click on the marked button above).
import { createNudge } from "nudge";

const nudge = await createNudge({
  site: "npm-example",
  campaigns: [
    {
      id: "added-free-shipping",
      placement: { type: "bar", position: "bottom", mode: "overlay" },
      content: {
        headline: { en: "{{name}} is in your cart: shipping is on us today." },
        cta: { label: "Close", action: "close" },
      },
      trigger: { event: "Product Added" },
    },
  ],
});

const log = document.getElementById("log");
nudge.on("impression", (e) => {
  log.textContent = "shown: " + e.props.campaign_id;
});
nudge.track("Product Viewed", { product_id: "p1", name: "Trail Runner 2", price: 89 });
