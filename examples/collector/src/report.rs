//! Campaign reports: per campaign and arm, what was shown and what it did, with lift vs control.
//!
//! The store only counts (events and distinct visitors per campaign, arm and lifecycle
//! event); everything else here is pure arithmetic, unit-tested on its own. The unit of
//! analysis is the visitor: an arm's conversion rate is visitors who converted over visitors
//! exposed (shown, or held out for the control arm), and lift is tested with a two-sided
//! two-proportion z-test against the control arm.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::Json;
use nudge::engine::event::names;
use nudge::engine::Millis;
use serde::{Deserialize, Serialize};

use crate::campaigns::known_site;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::ArmCount;

/// The arm name of the hold-out, as the engine writes it.
pub const CONTROL: &str = "control";

/// A variant compared with the control arm.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    /// `rate / control_rate - 1`; `None` when the control converted nobody.
    pub lift: Option<f64>,
    /// `rate - control_rate`, in absolute terms.
    pub difference: f64,
    /// The z statistic; `None` when nobody or everybody converted in both arms.
    pub z: Option<f64>,
    /// Two-sided p-value of "no difference".
    pub p_value: Option<f64>,
    /// `1 - p_value`: how sure we are the arms differ.
    pub confidence: Option<f64>,
}

/// One arm of a campaign.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Arm {
    /// Variant id, `"control"` for the hold-out, `None` for events that named no arm.
    pub variant: Option<String>,
    /// `Campaign Shown` events.
    pub impressions: u64,
    /// `Campaign Held Out` events.
    pub holdouts: u64,
    /// `Campaign Clicked` events.
    pub clicks: u64,
    /// `Campaign Dismissed` events.
    pub dismissals: u64,
    /// `Campaign Converted` events.
    pub conversions: u64,
    /// Distinct visitors exposed (shown or held out).
    pub visitors: u64,
    /// Distinct visitors who converted (capped at `visitors` for the rate).
    pub converted_visitors: u64,
    /// `converted_visitors / visitors`; `None` without visitors.
    pub conversion_rate: Option<f64>,
    /// Against the control arm, for variants when the campaign has a control.
    pub vs_control: Option<Comparison>,
}

/// One campaign.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CampaignReport {
    /// Campaign id.
    pub campaign_id: String,
    /// Control first, then variants by id, then unattributed events.
    pub arms: Vec<Arm>,
}

/// The report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// Site key.
    pub site: String,
    /// Window start, ms (inclusive).
    pub from: u64,
    /// Window end, ms (exclusive).
    pub to: u64,
    /// Campaigns by id.
    pub campaigns: Vec<CampaignReport>,
}

/// Complementary error function (Numerical Recipes' `erfcc`, relative error below 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// Compares `x1` of `n1` with `x2` of `n2` (the control): rate difference, lift and a
/// two-sided pooled two-proportion z-test.
///
/// ```
/// let c = nudge_collector::report::compare(20, 100, 10, 100);
/// assert_eq!(c.lift, Some(1.0));
/// assert!((c.z.unwrap() - 1.980).abs() < 1e-3);
/// assert!((c.p_value.unwrap() - 0.0477).abs() < 1e-3);
/// ```
pub fn compare(x1: u64, n1: u64, x2: u64, n2: u64) -> Comparison {
    let (p1, p2) = (x1 as f64 / n1 as f64, x2 as f64 / n2 as f64);
    let pooled = (x1 + x2) as f64 / (n1 + n2) as f64;
    let se = (pooled * (1.0 - pooled) * (1.0 / n1 as f64 + 1.0 / n2 as f64)).sqrt();
    let z = (se > 0.0).then(|| (p1 - p2) / se);
    let p_value = z.map(|z| erfc(z.abs() / std::f64::consts::SQRT_2).clamp(0.0, 1.0));
    Comparison {
        lift: (p2 > 0.0).then(|| p1 / p2 - 1.0),
        difference: p1 - p2,
        z,
        p_value,
        confidence: p_value.map(|p| 1.0 - p),
    }
}

/// Builds the per-campaign, per-arm figures from the store's counts.
pub fn build(counts: &[ArmCount]) -> Vec<CampaignReport> {
    let mut campaigns: BTreeMap<&str, BTreeMap<(u8, Option<&str>), Arm>> = BTreeMap::new();
    for c in counts {
        let variant = c.variant.as_deref();
        // Sort key: control first, named variants next, unattributed last.
        let rank = match variant {
            Some(CONTROL) => 0,
            Some(_) => 1,
            None => 2,
        };
        let arm = campaigns
            .entry(&c.campaign_id)
            .or_default()
            .entry((rank, variant))
            .or_insert_with(|| Arm { variant: variant.map(str::to_string), ..Arm::default() });
        match c.name.as_str() {
            names::CAMPAIGN_SHOWN => {
                arm.impressions += c.events;
                arm.visitors += c.visitors;
            }
            names::CAMPAIGN_HELD_OUT => {
                arm.holdouts += c.events;
                arm.visitors += c.visitors;
            }
            names::CAMPAIGN_CLICKED => arm.clicks += c.events,
            names::CAMPAIGN_DISMISSED => arm.dismissals += c.events,
            names::CAMPAIGN_CONVERTED => {
                arm.conversions += c.events;
                arm.converted_visitors += c.visitors;
            }
            _ => {}
        }
    }
    campaigns
        .into_iter()
        .map(|(id, arms)| {
            let mut arms: Vec<Arm> = arms.into_values().collect();
            for a in &mut arms {
                // A conversion can fall in the window while its exposure fell before it.
                a.converted_visitors = a.converted_visitors.min(a.visitors);
                a.conversion_rate =
                    (a.visitors > 0).then(|| a.converted_visitors as f64 / a.visitors as f64);
            }
            let control = arms
                .iter()
                .find(|a| a.variant.as_deref() == Some(CONTROL) && a.visitors > 0)
                .map(|a| (a.converted_visitors, a.visitors));
            if let Some((xc, nc)) = control {
                for a in
                    arms.iter_mut().filter(|a| a.variant.as_deref().is_some_and(|v| v != CONTROL))
                {
                    if a.visitors > 0 {
                        a.vs_control = Some(compare(a.converted_visitors, a.visitors, xc, nc));
                    }
                }
            }
            CampaignReport { campaign_id: id.to_string(), arms }
        })
        .collect()
}

/// Query of the report: a window in ms since the epoch, `from` inclusive, `to` exclusive.
#[derive(Debug, Deserialize)]
pub struct Window {
    /// Start (default: the beginning).
    pub from: Option<u64>,
    /// End (default: now).
    pub to: Option<u64>,
}

/// `GET /v1/admin/sites/{site}/report?from=&to=`.
pub async fn get(
    State(state): State<AppState>,
    Path(site): Path<String>,
    query: Result<Query<Window>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Report>, AppError> {
    let Query(w) = query.map_err(|e| {
        AppError::BadRequest(format!("{}: from and to are ms since the epoch", e.body_text()))
    })?;
    known_site(&state, &site).await?;
    let (from, to) = (w.from.unwrap_or(0), w.to.unwrap_or(state.now().0.saturating_add(1)));
    if from >= to {
        return Err(AppError::BadRequest(format!("from ({from}) must be before to ({to})")));
    }
    let counts = state.store().arm_counts(site.clone(), Millis(from), Millis(to)).await?;
    Ok(Json(Report { site, from, to, campaigns: build(&counts) }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(variant: Option<&str>, name: &str, events: u64, visitors: u64) -> ArmCount {
        ArmCount {
            campaign_id: "c".into(),
            variant: variant.map(Into::into),
            name: name.into(),
            events,
            visitors,
        }
    }

    #[test]
    fn erfc_matches_known_values() {
        for (x, want) in [
            (0.0, 1.0),
            (0.5, 0.479_500_1),
            (1.0, 0.157_299_2),
            (2.0, 0.004_677_7),
            (-1.0, 1.842_700_8),
        ] {
            assert!((erfc(x) - want).abs() < 1e-6, "erfc({x}) = {}", erfc(x));
        }
    }

    #[test]
    fn arms_sorted_and_compared() {
        let report = build(&[
            count(Some("b"), names::CAMPAIGN_SHOWN, 50, 40),
            count(Some(CONTROL), names::CAMPAIGN_HELD_OUT, 10, 10),
            count(Some(CONTROL), names::CAMPAIGN_CONVERTED, 1, 1),
            count(None, names::CAMPAIGN_CLICKED, 3, 3),
            count(Some("b"), names::CAMPAIGN_CONVERTED, 9, 8),
        ]);
        let arms = &report[0].arms;
        let names: Vec<_> = arms.iter().map(|a| a.variant.as_deref()).collect();
        assert_eq!(names, [Some(CONTROL), Some("b"), None]);
        assert_eq!(arms[1].conversion_rate, Some(0.2));
        let c = arms[1].vs_control.as_ref().unwrap();
        assert!((c.lift.unwrap() - 1.0).abs() < 1e-12);
        assert!(arms[0].vs_control.is_none() && arms[2].vs_control.is_none());
    }

    #[test]
    fn degenerate_comparisons_have_no_statistic() {
        let c = compare(0, 10, 0, 10);
        assert_eq!((c.lift, c.z, c.p_value), (None, None, None));
    }
}
