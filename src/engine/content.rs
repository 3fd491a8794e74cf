//! What a campaign says and how it looks: text per language, tokens, coupon, countdown,
//! image, theme; with the checks a marketer needs (colours, contrast, safe links).
//!
//! Rendering lives in the web shell; this module only decides *what* to render, so the
//! editor preview, the collector and the SDK agree on it.

use super::json::{self, num_string, Value};
use super::schema::{read_count, read_str, text, ErrorKind, Errors, Obj, Path};
use super::Millis;

/// Text in one or more languages. A plain string is stored under the empty language.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Text(pub Vec<(String, String)>);

impl Text {
    /// The text for `lang` (`ko-KR`): exact tag, then primary subtag (`ko`), then the
    /// untagged text, then `en`, then the first given.
    ///
    /// ```
    /// use nudge::engine::content::Text;
    /// let t = Text(vec![("en".into(), "Hi".into()), ("ko".into(), "안녕".into())]);
    /// assert_eq!(t.pick("ko-KR"), "안녕");
    /// assert_eq!(t.pick("fr"), "Hi");
    /// ```
    pub fn pick(&self, lang: &str) -> &str {
        let lang = lang.to_ascii_lowercase();
        let primary = lang.split('-').next().unwrap_or_default();
        let find = |l: &str| {
            self.0.iter().find(|(k, _)| k.eq_ignore_ascii_case(l)).map(|(_, t)| t.as_str())
        };
        find(&lang)
            .or_else(|| find(primary))
            .or_else(|| find(""))
            .or_else(|| find("en"))
            .or_else(|| self.0.first().map(|(_, t)| t.as_str()))
            .unwrap_or_default()
    }
}

/// Languages written right to left (primary subtags).
const RTL: &[&str] = &["ar", "he", "fa", "ur", "yi", "ps", "dv", "ku"];

/// Whether `lang` is written right to left.
pub fn is_rtl(lang: &str) -> bool {
    let primary = lang.split('-').next().unwrap_or_default().to_ascii_lowercase();
    RTL.contains(&primary.as_str())
}

/// Fills `{{token}}` and `{{token|fallback}}` from `lookup`. Unknown tokens without a
/// fallback become empty. The result is plain text: the renderer puts it in text nodes,
/// so a token carrying markup shows as characters, never as HTML.
///
/// ```
/// use nudge::engine::content::fill_tokens;
/// let look = |k: &str| (k == "product_name").then(|| "<b>Shoes</b>".to_string());
/// assert_eq!(fill_tokens("Still want {{product_name}}?", &look), "Still want <b>Shoes</b>?");
/// assert_eq!(fill_tokens("Hi {{ name | friend }}", &look), "Hi friend");
/// ```
pub fn fill_tokens(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((before, after)) = json::split_once(rest, "{{") {
        out.push_str(before);
        let Some((inner, tail)) = json::split_once(after, "}}") else {
            out.push_str("{{");
            out.push_str(after);
            return out;
        };
        let (name, fallback) = match inner.split_once('|') {
            Some((n, f)) => (n.trim(), Some(f.trim())),
            None => (inner.trim(), None),
        };
        match lookup(name) {
            Some(v) => out.push_str(&v),
            None => out.push_str(fallback.unwrap_or_default()),
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// An sRGB colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// Parses `#rgb` or `#rrggbb`.
    pub fn parse(s: &str) -> Option<Rgb> {
        let hex = s.strip_prefix('#')?;
        let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
        let b = hex.as_bytes();
        match b.len() {
            3 => Some(Rgb(digit(b[0])? * 17, digit(b[1])? * 17, digit(b[2])? * 17)),
            6 => Some(Rgb(
                digit(b[0])? * 16 + digit(b[1])?,
                digit(b[2])? * 16 + digit(b[3])?,
                digit(b[4])? * 16 + digit(b[5])?,
            )),
            _ => None,
        }
    }

    /// `#rrggbb`.
    pub fn css(self) -> String {
        use json::HEX;
        let mut s = String::from("#");
        for c in [self.0, self.1, self.2] {
            s.push(HEX[usize::from(c >> 4)] as char);
            s.push(HEX[usize::from(c & 15)] as char);
        }
        s
    }

    fn luminance(self) -> f64 {
        let lin = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.039_28 {
                c / 12.92
            } else {
                pow_2_4((c + 0.055) / 1.055)
            }
        };
        0.2126 * lin(self.0) + 0.7152 * lin(self.1) + 0.0722 * lin(self.2)
    }
}

/// `x^2.4` for `x` in [0.08, 1] (the sRGB curve's domain): the fifth root of `x^12` by
/// Newton's method. `powf` would pull `libm`'s `pow` into the browser build for one
/// contrast warning.
fn pow_2_4(x: f64) -> f64 {
    let x4 = x * x * x * x;
    let t = x4 * x4 * x4;
    // Start above the root and close to it: x^0.4 is concave, so its tangent at 0.4,
    // 0.693·(0.6 + x), lies above it (within 30% on the domain). From above, Newton descends
    // monotonically,
    let mut y = x * x * 0.694 * (0.6 + x);
    for _ in 0..32 {
        // so it has converged when a step no longer descends.
        let y4 = y * y * y * y;
        let next = y - (y4 * y - t) / (5.0 * y4);
        if next >= y {
            break;
        }
        y = next;
    }
    y
}

#[cfg(test)]
mod tests {
    #[test]
    fn pow_2_4_matches_powf() {
        for i in 80..=1000 {
            let x = f64::from(i) / 1000.0;
            assert!((super::pow_2_4(x) - x.powf(2.4)).abs() < 1e-12, "{x}");
        }
    }
}

/// WCAG contrast ratio between two colours, from 1 to 21.
///
/// ```
/// use nudge::engine::content::{contrast, Rgb};
/// assert!((contrast(Rgb(0, 0, 0), Rgb(255, 255, 255)) - 21.0).abs() < 0.01);
/// ```
pub fn contrast(a: Rgb, b: Rgb) -> f64 {
    let (x, y) = (a.luminance(), b.luminance());
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

/// Colours, corner radius and font.
#[derive(Clone, Debug, PartialEq)]
pub struct Theme {
    /// Panel background.
    pub background: Rgb,
    /// Panel text.
    pub text: Rgb,
    /// Button background.
    pub accent: Rgb,
    /// Button text.
    pub accent_text: Rgb,
    /// Corner radius in px.
    pub radius: u32,
    /// Font family stack (CJK fallbacks are appended by the renderer).
    pub font: Option<String>,
}

impl Default for Theme {
    fn default() -> Theme {
        Theme {
            background: Rgb(255, 255, 255),
            text: Rgb(0x1f, 0x29, 0x37),
            accent: Rgb(0x1d, 0x4e, 0xd8),
            accent_text: Rgb(255, 255, 255),
            radius: 12,
            font: None,
        }
    }
}

/// The CTA's behaviour.
#[derive(Clone, Debug, PartialEq)]
pub enum CtaAction {
    /// Navigate to a URL (http, https or a site path).
    Link(String),
    /// Copy the coupon code.
    Copy,
    /// Just close.
    Close,
}

/// The call to action.
#[derive(Clone, Debug, PartialEq)]
pub struct Cta {
    /// Button label.
    pub label: Text,
    /// What it does.
    pub action: CtaAction,
}

/// A countdown to the end of a deal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Countdown {
    /// Ends at a fixed time.
    Until(Millis),
    /// Ends this long after the visitor first saw the campaign (survives reloads).
    After(Millis),
}

impl Countdown {
    /// When it ends, given the first impression time.
    pub fn ends_at(self, first_shown: Millis) -> Millis {
        match self {
            Countdown::Until(t) => t,
            Countdown::After(d) => first_shown.plus(d),
        }
    }
}

/// An image.
#[derive(Clone, Debug, PartialEq)]
pub struct Image {
    /// URL (https or a site path).
    pub src: String,
    /// Alternative text (empty marks it decorative).
    pub alt: Text,
}

/// Everything a campaign shows.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Content {
    /// Headline (required).
    pub headline: Text,
    /// Body text.
    pub body: Option<Text>,
    /// Call to action.
    pub cta: Option<Cta>,
    /// Coupon code with a copy button.
    pub coupon: Option<String>,
    /// Countdown.
    pub countdown: Option<Countdown>,
    /// Image.
    pub image: Option<Image>,
    /// Look.
    pub theme: Theme,
}

const CONTENT_KEYS: &[&str] = &["headline", "body", "cta", "coupon", "countdown", "image", "theme"];

/// Reads text: a string, or an object of language → string.
pub fn read_text(v: &Value, path: &Path<'_>, errs: &mut Errors) -> Option<Text> {
    match v {
        Value::Str(_) => Some(Text(vec![(String::new(), read_str(v, path, errs)?)])),
        Value::Obj(fields) if !fields.is_empty() => {
            let before = errs.error_count();
            let mut out = Vec::new();
            for (lang, t) in fields {
                let p = path.key(lang);
                let ok_lang = lang.len() <= 16
                    && lang.split('-').all(|part| {
                        !part.is_empty() && part.bytes().all(|c| c.is_ascii_alphanumeric())
                    });
                if !ok_lang {
                    errs.push(
                        &p,
                        ErrorKind::Invalid(text(&[
                            "\"",
                            lang,
                            "\" is not a language tag like \"en\" or \"ko-KR\"",
                        ])),
                    );
                    continue;
                }
                if let Some(s) = read_str(t, &p, errs) {
                    let mut lang = String::from(lang.as_str());
                    lang.make_ascii_lowercase();
                    out.push((lang, s));
                }
            }
            (errs.error_count() == before).then_some(Text(out))
        }
        other => {
            errs.expected(path, "a string or an object of language → string", other);
            None
        }
    }
}

/// A URL safe to put in a link or image: http(s) or a site path. `javascript:` and
/// friends are refused, because a campaign must never become a script injection.
fn read_url(v: &Value, path: &Path<'_>, errs: &mut Errors) -> Option<String> {
    let s = read_str(v, path, errs)?;
    let lower = s.trim().to_ascii_lowercase();
    let ok = lower.starts_with("https://")
        || lower.starts_with("http://")
        || (lower.starts_with('/') && !lower.starts_with("//"));
    if !ok {
        errs.expected(path, "an http(s) URL or a path starting with \"/\"", v);
        return None;
    }
    Some(s)
}

fn read_colour(o: &Obj<'_>, key: &str, default: Rgb, errs: &mut Errors) -> Rgb {
    match o.get(key) {
        None => default,
        Some((v, p)) => match v.as_str().and_then(Rgb::parse) {
            Some(c) => c,
            None => {
                errs.expected(&p, "a colour like \"#1d4ed8\" or \"#fff\"", v);
                default
            }
        },
    }
}

/// Reads a content object. `now_hint` is unused by parsing; countdowns are resolved at show time.
pub fn read_content(v: &Value, path: &Path<'_>, errs: &mut Errors) -> Option<Content> {
    read_content_over(v, path, errs, None)
}

/// Reads content overrides over `base` (a variant's `content`): absent fields keep the
/// base's value, present ones are read and checked as usual.
pub fn read_content_over(
    v: &Value,
    path: &Path<'_>,
    errs: &mut Errors,
    base: Option<&Content>,
) -> Option<Content> {
    let o = Obj::open(v, path, CONTENT_KEYS, errs)?;
    let before = errs.error_count();
    // Absent fields inherit from the base (a variant's campaign content). Present ones are
    // read in a fixed order (headline, body, coupon, cta, countdown, image, theme): the
    // order findings come out in, which the spec tests pin.
    let mut c = base.cloned().unwrap_or_default();
    match o.get("headline") {
        Some((v, p)) => {
            if let Some(h) = read_text(v, &p, errs) {
                c.headline = h;
            }
        }
        None if base.is_none() => {
            o.req("headline", errs);
        }
        None => {}
    }
    if let Some((v, p)) = o.get("body") {
        c.body = read_text(v, &p, errs);
    }
    if let Some((v, p)) = o.get("coupon") {
        c.coupon = read_coupon(v, &p, errs);
    }
    if let Some((v, p)) = o.get("cta") {
        c.cta = read_cta(v, &p, errs);
    }
    if let Some((v, p)) = o.get("countdown") {
        c.countdown = read_countdown(v, &p, errs);
    }
    if let Some((v, p)) = o.get("image") {
        c.image = read_image(v, &p, errs);
    }
    if let Some(t) = o.get("theme").and_then(|(v, p)| read_theme(v, &p, errs)) {
        c.theme = t;
    }
    if let (Some(Cta { action: CtaAction::Copy, .. }), None) = (&c.cta, &c.coupon) {
        let cta_path = path.key("cta");
        errs.push(
            &cta_path.key("action"),
            ErrorKind::Invalid("\"copy\" needs a coupon code".into()),
        );
    }
    (errs.error_count() == before).then_some(c)
}

fn read_coupon(v: &Value, path: &Path<'_>, errs: &mut Errors) -> Option<String> {
    let p = *path;
    let c = read_str(v, &p, errs)?;
    if c.len() > 64 && c.chars().count() > 64 {
        errs.push(&p, ErrorKind::Invalid("a coupon code is at most 64 characters".into()));
        return None;
    }
    Some(c)
}

fn read_cta(v: &Value, path: &Path<'_>, errs: &mut Errors) -> Option<Cta> {
    let p = *path;
    let c = Obj::open(v, &p, &["label", "url", "action"], errs)?;
    let label = c.req("label", errs).and_then(|(v, p)| read_text(v, &p, errs));
    let action = match (c.get("url"), c.get("action")) {
        (Some((u, up)), None) => read_url(u, &up, errs).map(CtaAction::Link),
        (None, Some((a, ap))) => match a.as_str() {
            Some("copy") => Some(CtaAction::Copy),
            Some("close") => Some(CtaAction::Close),
            _ => {
                errs.expected(&ap, "\"copy\" or \"close\"", a);
                None
            }
        },
        (None, None) => Some(CtaAction::Close),
        (Some(_), Some(_)) => {
            errs.push(&p, ErrorKind::Invalid("give either \"url\" or \"action\", not both".into()));
            None
        }
    };
    Some(Cta { label: label?, action: action? })
}

fn read_countdown(v: &Value, path: &Path<'_>, errs: &mut Errors) -> Option<Countdown> {
    let p = *path;
    let c = Obj::open(v, &p, &["until", "minutes"], errs)?;
    match (c.get("until"), c.get("minutes")) {
        (Some((Value::Num(t), _)), None) if *t > 0.0 && t.fract() == 0.0 => {
            Some(Countdown::Until(Millis(*t as u64)))
        }
        (Some((t, tp)), None) => {
            errs.expected(&tp, "a timestamp in milliseconds", t);
            None
        }
        (None, Some((m, mp))) => match read_count(m, &mp, 10_080, errs)? {
            0 => {
                errs.push(&mp, ErrorKind::Invalid("must be at least 1 minute".into()));
                None
            }
            m => Some(Countdown::After(Millis(u64::from(m) * 60_000))),
        },
        _ => {
            errs.push(
                &p,
                ErrorKind::Invalid("give exactly one of \"until\" or \"minutes\"".into()),
            );
            None
        }
    }
}

fn read_image(v: &Value, path: &Path<'_>, errs: &mut Errors) -> Option<Image> {
    let p = *path;
    let i = Obj::open(v, &p, &["src", "alt"], errs)?;
    let src = i.req("src", errs).and_then(|(v, p)| read_url(v, &p, errs));
    let alt = match i.get("alt") {
        Some((Value::Str(s), _)) if s.is_empty() => Some(Text::default()),
        Some((v, p)) => read_text(v, &p, errs),
        None => {
            errs.push(&p, ErrorKind::Missing("alt".into()));
            None
        }
    };
    Some(Image { src: src?, alt: alt? })
}

fn read_theme(v: &Value, path: &Path<'_>, errs: &mut Errors) -> Option<Theme> {
    let o = Obj::open(
        v,
        path,
        &["background", "text", "accent", "accent_text", "radius", "font"],
        errs,
    )?;
    let d = Theme::default();
    let t = Theme {
        background: read_colour(&o, "background", d.background, errs),
        text: read_colour(&o, "text", d.text, errs),
        accent: read_colour(&o, "accent", d.accent, errs),
        accent_text: read_colour(&o, "accent_text", d.accent_text, errs),
        radius: o.count("radius", 48, errs).unwrap_or(d.radius),
        font: o.str("font", errs),
    };
    if let Some(f) = &t.font {
        if f.contains([';', '{', '}', '<', '>']) {
            errs.expected(&path.key("font"), "a font-family list", &Value::Str(f.clone()));
        }
    }
    for (fg, bg, key) in [(t.text, t.background, "text"), (t.accent_text, t.accent, "accent_text")]
    {
        let ratio = contrast(fg, bg);
        if ratio < 4.5 {
            errs.warn(
                &path.key(key),
                ErrorKind::Invalid(text(&[
                    "text contrast ",
                    &num_string((ratio * 100.0).round() / 100.0),
                    ":1 is below 4.5:1 (",
                    &fg.css(),
                    " on ",
                    &bg.css(),
                    ")",
                ])),
            );
        }
    }
    Some(t)
}
