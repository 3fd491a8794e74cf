//! A/B assignment: a documented, stable hash of (visitor, campaign, salt) into [0, 1).
//!
//! The hash is FNV-1a (64-bit) over the UTF-8 bytes of `"{salt}:{campaign_id}:{visitor_id}"`,
//! passed through the splitmix64 finaliser (FNV's low bits are weak on short inputs), and the
//! top 53 bits divided by 2^53. The collector recomputes the same number natively; any other
//! language can too. The first `control` of the interval is the hold-out; the rest is split
//! by cumulative variant weight in the order the variants are listed.

/// FNV-1a 64-bit followed by splitmix64's finaliser.
///
/// ```
/// use nudge::engine::assign::stable_hash;
/// assert_eq!(stable_hash(b"nudge"), stable_hash(b"nudge"));
/// assert_ne!(stable_hash(b"a"), stable_hash(b"b"));
/// ```
pub fn stable_hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// The visitor's position in [0, 1) for a campaign.
///
/// ```
/// use nudge::engine::assign::unit;
/// let u = unit("visitor-1", "spring-sale", "");
/// assert!((0.0..1.0).contains(&u));
/// assert_eq!(u, unit("visitor-1", "spring-sale", ""));
/// ```
pub fn unit(visitor: &str, campaign: &str, salt: &str) -> f64 {
    let mut key = String::with_capacity(salt.len() + campaign.len() + visitor.len() + 2);
    key.push_str(salt);
    key.push(':');
    key.push_str(campaign);
    key.push(':');
    key.push_str(visitor);
    (stable_hash(key.as_bytes()) >> 11) as f64 / (1u64 << 53) as f64
}

/// Which arm a visitor is in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arm {
    /// Shown this variant (by id).
    Variant(String),
    /// Held out: never shown, logged where it would have been.
    Control,
}

impl Arm {
    /// The arm's name on the wire: the variant id, or `"control"`.
    pub fn name(&self) -> &str {
        match self {
            Arm::Variant(v) => v,
            Arm::Control => "control",
        }
    }
}

/// Picks the arm for position `u` given a control share and `(variant id, weight)` pairs.
/// Weights need not sum to 1; a zero total (rejected by validation) yields the control.
///
/// ```
/// use nudge::engine::assign::{assign_variant, Arm};
/// let v = [("a".to_string(), 1.0), ("b".to_string(), 3.0)];
/// assert_eq!(assign_variant(0.05, 0.1, &v), Arm::Control);
/// assert_eq!(assign_variant(0.2, 0.1, &v), Arm::Variant("a".into()));
/// assert_eq!(assign_variant(0.9, 0.1, &v), Arm::Variant("b".into()));
/// ```
pub fn assign_variant(u: f64, control: f64, variants: &[(String, f64)]) -> Arm {
    pick_arm(u, control, variants.iter().map(|(id, w)| (id.as_str(), *w)))
}

/// [`assign_variant`] over borrowed `(id, weight)` pairs, without building a list.
pub fn pick_arm<'v>(
    u: f64,
    control: f64,
    variants: impl Iterator<Item = (&'v str, f64)> + Clone,
) -> Arm {
    if u < control {
        return Arm::Control;
    }
    let total: f64 = variants.clone().map(|(_, w)| w).sum();
    if total <= 0.0 {
        return Arm::Control;
    }
    let x = (u - control) / (1.0 - control) * total;
    let mut acc = 0.0;
    let mut last = None;
    for (id, w) in variants {
        acc += w;
        if x < acc {
            return Arm::Variant(id.to_string());
        }
        if w > 0.0 {
            last = Some(id);
        }
    }
    last.map_or(Arm::Control, |id| Arm::Variant(id.to_string()))
}
