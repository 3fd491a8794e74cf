// Type-checks the shipped TypeScript declarations (`dist/nudge.d.ts`, `dist/index.d.ts`)
// the way an application uses them; `cargo xtask test` runs `tsc --noEmit --strict` on it.
// Lines marked `@ts-expect-error` must fail to type-check: they prove the types are narrow.
import { createNudge, type NudgeConfig, type NudgeEvent, type Reason } from "../../dist/index.js";

const config: NudgeConfig = {
  site: "demo-shop",
  collector: "https://collector.example",
  consent: "pending",
  respectGpc: true,
  lang: "ko-KR",
};

export async function main(): Promise<void> {
  const nudge = await createNudge(config);
  nudge.track("Product Viewed", { product_id: "p1", price: 29.9, tags: ["shoes"], sale: null });
  nudge.identify("user-1", { plan: "gold", segments: ["vip"] });
  nudge.identify(null);
  nudge.page();
  nudge.setCampaigns([{ id: "welcome" }]);
  nudge.setCampaigns('{"schema":1,"campaigns":[]}');
  nudge.setConsent("granted");
  const log = (e: NudgeEvent): void => console.log(e.name, e.props.campaign_id, e.page?.url);
  nudge.on("impression", log);
  nudge.off("impression", log);
  const shown: boolean = nudge.show("welcome", "b");
  const why: Reason[] = nudge.explain("welcome");
  const first: string | undefined = why[0]?.path;
  console.log(shown, first);
  nudge.push(["track", "Cart Viewed", { value: 10 }]);
  nudge.optOut();
  nudge.reset();
  nudge.shutdown();

  // @ts-expect-error: consent has three states
  nudge.setConsent("maybe");
  // @ts-expect-error: topics are a closed list
  nudge.on("everything", log);
  // @ts-expect-error: `site` is required
  await createNudge({ collector: "https://collector.example" });
  // @ts-expect-error: properties are JSON data
  nudge.track("Product Viewed", { when: new Date() });
}

// The snippet's queue, before the loader replaces it with the API.
window.nudge = window.nudge || [];
window.nudge.push(["track", "Product Viewed", { product_id: "p1" }]);
