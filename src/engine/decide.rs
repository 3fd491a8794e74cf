//! `decide(state, event, now)`: fold the event in, then choose what to show and why.
//!
//! Order of checks per campaign: status, schedule, once per page view, trigger, audience,
//! caps; then arbitration across the survivors: the cross-campaign budget, one bar and one
//! modal at a time, higher priority first, ties by id. A winner in the control group is
//! logged as `Campaign Held Out` (and counted against its own caps) instead of shown; it
//! is subject to the budget but does not spend it, and does not take the slot. [`decide`]
//! never fails: it returns shows, lifecycle events and, when asked, one [`Reason`] per
//! campaign.

use super::assign::{pick_arm, stable_hash, unit, Arm};
use super::campaign::{Campaign, CampaignSet, Slot, Status};
use super::cap::{Ledger, Limit};
use super::event::{lifecycle, names, Event};
use super::json::{write_uint, Key, Value};
use super::profile::{Consent, Profile};
use super::rule::Ctx;
use super::schedule::Closed;
use super::schema::text;
use super::Millis;

/// Everything the engine knows about one visitor on one device.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct State {
    /// The visitor.
    pub profile: Profile,
    /// Their history with campaigns.
    pub ledger: Ledger,
    /// Consent state.
    pub consent: Consent,
    /// What is on screen now, per slot (cleared on page view and dismissal).
    pub on_screen: Vec<(Slot, String)>,
    /// Campaigns already shown or held out on this page view, and the page view they were on.
    pub this_page: (u64, Vec<String>),
}

impl State {
    /// A fresh state for a visitor.
    pub fn new(anon_id: &str) -> State {
        State { profile: Profile::new(anon_id), ..State::default() }
    }

    /// The persisted form: profile and ledger, versioned.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(1024);
        out.push_str("{\"v\":1,\"p\":");
        self.profile.write_json(&mut out);
        out.push_str(",\"l\":");
        self.ledger.write_json(&mut out);
        out.push('}');
        out
    }

    /// Restores the persisted form; `None` when it is unreadable (start afresh).
    pub fn from_json(text: &str) -> Option<State> {
        let v = super::json::parse(text).ok()?;
        if v.get("v")?.as_f64()? != 1.0 {
            return None;
        }
        let profile = Profile::from_value(v.get("p")?).ok()?;
        let ledger = Ledger::from_value(v.get("l")?)?;
        Some(State { profile, ledger, ..State::default() })
    }
}

/// A campaign to render now.
#[derive(Clone, Debug, PartialEq)]
pub struct Show {
    /// Campaign id.
    pub campaign: String,
    /// Variant id.
    pub variant: String,
    /// Slot it occupies.
    pub slot: Slot,
    /// When its countdown (if any) ends.
    pub countdown_ends: Option<Millis>,
}

/// Why a campaign did or did not show.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Shown (variant id).
    Shown(String),
    /// Held out (control group).
    HeldOut,
    /// Not active.
    Status,
    /// Outside its schedule.
    Schedule(Closed),
    /// Already shown on this page view.
    ThisPage,
    /// The trigger did not fire (path of the failing rule).
    Trigger(String),
    /// The visitor is not in the audience (path of the failing rule).
    Audience(String),
    /// A campaign cap was reached (path of the cap).
    Cap(String),
    /// The cross-campaign budget was reached (`budget.<field>`).
    Budget(String),
    /// Its slot is taken by a campaign already on screen.
    SlotBusy(String),
    /// Another campaign won the slot this round.
    LostTo(String),
}

/// One campaign's verdict.
#[derive(Clone, Debug, PartialEq)]
pub struct Reason {
    /// Campaign id.
    pub campaign: String,
    /// What happened.
    pub verdict: Verdict,
}

impl Reason {
    /// The data form: `{"campaign", "result", "path"|"by"|"variant"}`.
    pub fn to_value(&self) -> Value {
        let s = |x: &str| Value::Str(x.to_string());
        let mut o: Vec<(Key, Value)> = vec![("campaign".into(), s(&self.campaign))];
        let (result, extra): (&str, Option<(&str, String)>) = match &self.verdict {
            Verdict::Shown(v) => ("shown", Some(("variant", v.clone()))),
            Verdict::HeldOut => ("held_out", None),
            Verdict::Status => ("inactive", None),
            Verdict::Schedule(c) => ("schedule", Some(("detail", c.code().to_string()))),
            Verdict::ThisPage => ("shown_on_page", None),
            Verdict::Trigger(p) => ("trigger", Some(("path", p.clone()))),
            Verdict::Audience(p) => ("audience", Some(("path", p.clone()))),
            Verdict::Cap(p) => ("cap", Some(("path", p.clone()))),
            Verdict::Budget(p) => ("budget", Some(("path", p.clone()))),
            Verdict::SlotBusy(by) => ("slot_busy", Some(("by", by.clone()))),
            Verdict::LostTo(by) => ("lost_to", Some(("by", by.clone()))),
        };
        o.push(("result".into(), s(result)));
        if let Some((k, v)) = extra {
            o.push((k.into(), Value::Str(v)));
        }
        Value::Obj(o)
    }
}

/// What `decide` returns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    /// Campaigns to render, at most one per slot.
    pub shows: Vec<Show>,
    /// Lifecycle events to send (`Campaign Shown`, `Held Out`, `Converted`).
    pub events: Vec<Event>,
    /// One reason per campaign, when asked for.
    pub reasons: Vec<Reason>,
}

/// Folds `event` into the state, then decides.
///
/// ```
/// use nudge::engine::{campaign::load, decide::{decide, State}, event::Event, Millis};
/// let set = load(r#"{"schema":1,"campaigns":[{"id":"hi","placement":{"type":"bar"},
///     "content":{"headline":"Free shipping over $50"},"trigger":{"event":"Page Viewed"}}]}"#).set;
/// let mut state = State::new("visitor-1");
/// let out = decide(&mut state, &set, &Event::new("e1", "Page Viewed", Millis(1_000)), Millis(1_000), true);
/// assert_eq!(out.shows[0].campaign, "hi");
/// assert_eq!(out.events[0].name, "Campaign Shown");
/// ```
pub fn decide(
    state: &mut State,
    set: &CampaignSet,
    event: &Event,
    now: Millis,
    explain: bool,
) -> Outcome {
    let mut out = Outcome::default();
    state.profile.record(event, &set.tracks);
    if event.name == names::PAGE_VIEWED {
        state.on_screen.clear();
    }
    if let Some(id) = event.prop("campaign_id").and_then(Value::as_str) {
        match event.name.as_str() {
            names::CAMPAIGN_DISMISSED => {
                state.on_screen.retain(|(_, c)| c != id);
                if let Some(log) = state.ledger.campaigns.get_mut(id) {
                    log.dismissed = Some(event.ts);
                }
            }
            names::CAMPAIGN_CLICKED => {}
            _ => {}
        }
    }
    // Opted out: nothing about the visitor may leave, conversions included.
    if state.consent != Consent::Denied {
        convert(state, set, event, &mut out);
    }
    choose(state, set, Some(event), now, explain, &mut out);
    out
}

/// Decides with no new event: time-based triggers (time on page, idle, "A then no B").
pub fn tick(state: &mut State, set: &CampaignSet, now: Millis, explain: bool) -> Outcome {
    let mut out = Outcome::default();
    choose(state, set, None, now, explain, &mut out);
    out
}

/// Emits `Campaign Converted` for each campaign whose goal this event meets within its
/// attribution window after the visitor's latest exposure (impression or hold-out).
fn convert(state: &mut State, set: &CampaignSet, e: &Event, out: &mut Outcome) {
    let name_hash = stable_hash(e.name.as_bytes());
    for c in &set.campaigns {
        let Some(goal) = &c.goal else { continue };
        if goal.name_hash != name_hash || !goal.event.matches(e) {
            continue;
        }
        let Some(log) = state.ledger.campaigns.get_mut(&c.id) else { continue };
        let Some(exposed) = log.last_shown() else { continue };
        let already = log.converted.is_some_and(|t| t >= exposed);
        if already || e.ts < exposed || e.ts.since(exposed) > goal.within {
            continue;
        }
        log.converted = Some(e.ts);
        let arm = log.arm.as_ref().map_or("default", Arm::name);
        let id = lifecycle_id(&e.id, &c.id, "converted");
        let mut conv = lifecycle(names::CAMPAIGN_CONVERTED, id, e.ts, &c.id, Some(arm))
            .with_prop("goal", Value::Str(e.name.clone()));
        if let Some(v) = e.num("value").or(e.num("revenue")) {
            conv = conv.with_prop("value", Value::Num(v));
        }
        out.events.push(conv);
    }
}

/// Why a campaign is not eligible, without allocating (reasons are built only on request).
enum Why<'a> {
    Status,
    Schedule(Closed),
    ThisPage,
    Trigger(&'a str),
    Audience(&'a str),
    Cap(Limit),
}

impl Why<'_> {
    fn verdict(self, c: &Campaign) -> Verdict {
        match self {
            Why::Status => Verdict::Status,
            Why::Schedule(s) => Verdict::Schedule(s),
            Why::ThisPage => Verdict::ThisPage,
            Why::Trigger(p) => Verdict::Trigger(p.to_string()),
            Why::Audience(p) => Verdict::Audience(p.to_string()),
            Why::Cap(l) => Verdict::Cap(text(&[&c.path, ".caps.", l.field()])),
        }
    }
}

fn eligible<'c>(
    c: &'c Campaign,
    state: &State,
    cx: &Ctx<'_>,
    page_view: u64,
) -> Result<(), Why<'c>> {
    if c.status != Status::Active {
        return Err(Why::Status);
    }
    c.schedule.check(cx.now).map_err(Why::Schedule)?;
    if state.this_page.0 == page_view && state.this_page.1.contains(&c.id) {
        return Err(Why::ThisPage);
    }
    c.trigger.check(cx).map_err(|r| Why::Trigger(&r.path))?;
    if let Some(a) = &c.audience {
        a.check(cx).map_err(|r| Why::Audience(&r.path))?;
    }
    let session = state.profile.sessions;
    c.caps.check(state.ledger.campaigns.get(&c.id), session, cx.now).map_err(Why::Cap)
}

fn choose(
    state: &mut State,
    set: &CampaignSet,
    event: Option<&Event>,
    now: Millis,
    explain: bool,
    out: &mut Outcome,
) {
    let page_view = state.profile.page.view;
    if state.this_page.0 != page_view {
        state.this_page = (page_view, Vec::new());
    }
    if state.consent == Consent::Denied {
        // Opted out: nothing is shown, and explain says why for each campaign.
        if explain {
            for c in &set.campaigns {
                out.reasons.push(Reason {
                    campaign: c.id.clone(),
                    verdict: Verdict::Audience("consent".into()),
                });
            }
        }
        return;
    }
    let mut winners: Vec<(usize, Arm)> = Vec::new();
    let mut taken: Vec<(Slot, String)> = Vec::new();
    // The budget also counts this round's impressions (a bar and a modal chosen together
    // are two impressions), so once one is chosen the check runs on a copy that has it.
    let mut round: Option<Ledger> = None;
    let session = state.profile.sessions;
    let name_hash = event.map(|e| stable_hash(e.name.as_bytes()));
    for (i, c) in set.campaigns.iter().enumerate() {
        // A campaign whose trigger needs another event is skipped with one compare; explain
        // takes the long way to name the failing rule.
        let gated_out = c.gate.as_ref().is_some_and(|g| !name_hash.is_some_and(|h| g.contains(&h)));
        if gated_out && !explain {
            continue;
        }
        // A tick only re-evaluates campaigns whose rules can change with time alone.
        if event.is_none() && !c.timed {
            if explain {
                out.reasons.push(Reason {
                    campaign: c.id.clone(),
                    verdict: Verdict::Trigger(c.trigger.path.clone()),
                });
            }
            continue;
        }
        let cx = Ctx { profile: &state.profile, event, now, consent: state.consent };
        let verdict = match eligible(c, state, &cx, page_view) {
            Err(why) => explain.then(|| why.verdict(c)),
            Ok(()) => {
                let slot = c.placement.slot();
                // Reasons are built only when asked for: this loop is the hot path.
                if let Some((_, by)) =
                    state.on_screen.iter().chain(taken.iter()).find(|(s, _)| *s == slot)
                {
                    explain.then(|| {
                        if state.on_screen.iter().any(|(s, _)| *s == slot) {
                            Verdict::SlotBusy(by.clone())
                        } else {
                            Verdict::LostTo(by.clone())
                        }
                    })
                } else if let Err(l) =
                    // The budget applies to both arms: a control visitor is held out only
                    // where the impression would have happened (a hold-out does not spend it).
                    set.budget.check(
                        round.as_ref().unwrap_or(&state.ledger),
                        session,
                        now,
                    )
                {
                    explain.then(|| Verdict::Budget(text(&["budget.", Limit::field(l)])))
                } else {
                    let arm = arm_for(state, c);
                    if arm != Arm::Control {
                        let budget = round.get_or_insert_with(|| Ledger {
                            shown: state.ledger.shown.clone(),
                            session: state.ledger.session,
                            session_count: state.ledger.session_count,
                            ..Ledger::default()
                        });
                        budget.record_exposure(&c.id, session, now, false);
                        taken.push((slot, c.id.clone()));
                    }
                    winners.push((i, arm));
                    None
                }
            }
        };
        if let (true, Some(v)) = (explain, verdict) {
            out.reasons.push(Reason { campaign: c.id.clone(), verdict: v });
        }
    }
    for (i, arm) in winners {
        let c = &set.campaigns[i];
        let held_out = arm == Arm::Control;
        state.ledger.record_exposure(&c.id, session, now, held_out);
        state.this_page.1.push(c.id.clone());
        // record_exposure above created the log.
        let Some(log) = state.ledger.campaigns.get_mut(&c.id) else { continue };
        log.arm = Some(arm.clone());
        let first_shown = log.first_shown.unwrap_or(now);
        let base = event.map_or_else(
            || {
                let mut t = String::from("t");
                write_uint(&mut t, now.0);
                t
            },
            |e| e.id.clone(),
        );
        // (`format!` costs more than the rest of a show; ids are built by hand.)
        if held_out {
            let id = lifecycle_id(&base, &c.id, "held_out");
            out.events.push(lifecycle(names::CAMPAIGN_HELD_OUT, id, now, &c.id, Some("control")));
            if explain {
                out.reasons.push(Reason { campaign: c.id.clone(), verdict: Verdict::HeldOut });
            }
            continue;
        }
        let variant = arm.name().to_string();
        let slot = c.placement.slot();
        state.on_screen.push((slot, c.id.clone()));
        let countdown_ends =
            c.variant(&variant).and_then(|v| v.content.countdown).map(|cd| cd.ends_at(first_shown));
        let id = lifecycle_id(&base, &c.id, "shown");
        out.events.push(lifecycle(names::CAMPAIGN_SHOWN, id, now, &c.id, Some(&variant)));
        if explain {
            out.reasons
                .push(Reason { campaign: c.id.clone(), verdict: Verdict::Shown(variant.clone()) });
        }
        out.shows.push(Show { campaign: c.id.clone(), variant, slot, countdown_ends });
    }
}

/// `"{base}:{campaign}:{kind}"`: derived from the input event's id, so a resend is a
/// duplicate the collector recognises.
fn lifecycle_id(base: &str, campaign: &str, kind: &str) -> String {
    let mut id = String::with_capacity(base.len() + campaign.len() + kind.len() + 2);
    for (i, part) in [base, campaign, kind].into_iter().enumerate() {
        if i > 0 {
            id.push(':');
        }
        id.push_str(part);
    }
    id
}

/// The visitor's arm for `c`: the persisted one if it still exists, else a fresh assignment.
fn arm_for(state: &State, c: &Campaign) -> Arm {
    let persisted = state.ledger.campaigns.get(&c.id).and_then(|l| l.arm.clone());
    match persisted {
        Some(Arm::Control) => Arm::Control,
        Some(Arm::Variant(v)) if c.variant(&v).is_some() => Arm::Variant(v),
        _ => pick_arm(
            unit(&state.profile.anon_id, &c.id, &c.salt),
            c.control,
            c.variants.iter().map(|v| (v.id.as_str(), v.weight)),
        ),
    }
}
