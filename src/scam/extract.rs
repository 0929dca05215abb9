//! Finds phone numbers, bank account numbers, domains and VietQR payloads in free Vietnamese text.
//!
//! The input is first prepared by [`PreparedText`] (NFC, full-width digits to ASCII, zero-width
//! characters removed); matching runs on that form and every [`Entity::span`] is mapped back to a byte
//! range of the caller's text, so `&input[entity.span]` is the entity exactly as written.
//!
//! The heuristics are driven by the tables below so they can be tuned without
//! touching the matching code.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use crate::scam::ascii_link::{self, LinkParts};
use crate::scam::banks::{self, Bank};
use crate::scam::cues::{CueClass, CueHit, Cues};
use crate::scam::numbers::{self, NumberRun};
use crate::scam::scan::position_from;
use crate::scam::text::PreparedText;
#[cfg(test)]
use crate::scam::text::fold;
pub use crate::scam::text::normalize_text;
use crate::scam::vietqr;
use crate::scam::{Entity, EntityKind, VN_COUNTRY_PREFIX};

/// Mobile operators by the two digits after the trunk `0` (the domain notes' operator table; 052 and
/// 059 follow libphonenumber's metadata; 055 (Reddi, unconfirmed) is not valid there, so it is left out).
#[rustfmt::skip]
const MOBILE_CARRIERS: &[(&str, &str)] = &[
    ("32", "Viettel"), ("33", "Viettel"), ("34", "Viettel"), ("35", "Viettel"), ("36", "Viettel"),
    ("37", "Viettel"), ("38", "Viettel"), ("39", "Viettel"), ("86", "Viettel"), ("96", "Viettel"),
    ("97", "Viettel"), ("98", "Viettel"),
    ("81", "Vinaphone"), ("82", "Vinaphone"), ("83", "Vinaphone"), ("84", "Vinaphone"),
    ("85", "Vinaphone"), ("88", "Vinaphone"), ("91", "Vinaphone"), ("94", "Vinaphone"),
    ("70", "MobiFone"), ("76", "MobiFone"), ("77", "MobiFone"), ("78", "MobiFone"), ("79", "MobiFone"),
    ("89", "MobiFone"), ("90", "MobiFone"), ("93", "MobiFone"),
    ("52", "Vietnamobile"), ("56", "Vietnamobile"), ("58", "Vietnamobile"), ("92", "Vietnamobile"),
    ("59", "Gmobile"), ("99", "Gmobile"),
    ("87", "iTel"),
];

/// The mobile operator of a 9-digit national number (without the trunk `0`).
#[must_use]
pub fn mobile_carrier(national: &str) -> Option<&'static str> {
    let prefix = national.get(..2)?;
    MOBILE_CARRIERS
        .iter()
        .find(|(p, _)| *p == prefix)
        .map(|(_, carrier)| *carrier)
}

/// Words that name an account number outright ("số tài khoản 1903…").
/// Written accent-folded and lowercase; matched against folded text on word
/// boundaries, a space standing for any run of whitespace.
pub(crate) const ACCOUNT_NUMBER_CUES: &[&str] = &[
    "stk",
    "so tk",
    "so tai khoan",
    "tai khoan",
    "tk",
    "ctk",
    "chu tk",
];

/// Words about paying: transfers, banks and wallets. A number near them is
/// likely an account, but may also be an amount ("CK 500000"). Same format as
/// [`ACCOUNT_NUMBER_CUES`].
pub(crate) const PAYMENT_CUES: &[&str] = &[
    "ngan hang",
    "nh",
    "chuyen khoan",
    "ck",
    "noi dung ck",
    "vietcombank",
    "vcb",
    "techcombank",
    "tcb",
    "mb",
    "mbbank",
    "mb bank",
    "bidv",
    "agribank",
    "acb",
    "vpbank",
    "vpb",
    "tpbank",
    "tpb",
    "sacombank",
    "stb",
    "vietinbank",
    "vietin",
    "ctg",
    "msb",
    "hdbank",
    "hdb",
    "shb",
    "vib",
    "eximbank",
    "eib",
    "lpbank",
    "momo",
    "zalopay",
    "zalo pay",
    "viettel money",
    "vnpay",
];

/// Words that, when they are the cue nearest before a number, say it is *not*
/// an account: one-time codes, order and ID numbers, amounts, other phone-like
/// numbers. Same format as [`ACCOUNT_NUMBER_CUES`].
pub(crate) const NON_ACCOUNT_CUES: &[&str] = &[
    "otp",
    "ma",
    "ma xac nhan",
    "ma xac thuc",
    "ma bao mat",
    "ma kich hoat",
    "ma don",
    "ma don hang",
    "don hang",
    "ma van don",
    "van don",
    "ma gd",
    "ma giao dich",
    "cccd",
    "cmnd",
    "cmt",
    "can cuoc",
    "ma so thue",
    "mst",
    "sdt",
    "dt",
    "so dien thoai",
    "dien thoai",
    "hotline",
    "lh",
    "lien lac",
    "so la",
    "goi",
    "goi dien",
    "lien he",
    "zalo",
    "sms",
    "nhan tin",
    "call",
    "imei",
    "serial",
    "seri",
];

/// TLDs accepted for a bare `name.tld` written without scheme, `www.` or
/// defanging. Chat text often omits the space after a full stop ("rồi.Anh"),
/// so a bare match needs a TLD that is actually common; with a URL signal any
/// alphabetic TLD is accepted. Several cheap TLDs popular with scammers are here.
const COMMON_TLDS: &[&str] = &[
    "com", "net", "org", "info", "biz", "vn", "io", "co", "me", "app", "dev", "xyz", "top",
    "online", "site", "shop", "store", "club", "live", "vip", "pro", "tech", "link", "click",
    "icu", "cfd", "sbs", "cc", "tk", "ml", "ga", "cf", "gq", "ws", "asia", "mobi", "tv", "us",
    "uk", "cn", "ru", "ly", "gl", "gg", "one", "fun", "life", "world", "today", "cloud", "space",
    "website", "win", "bet", "games", "bio", "work", "ink", "buzz", "rest", "bond", "lat", "lol",
    "pw", "su", "nl", "de", "fr", "jp", "kr", "sg", "th", "kh", "id", "ph", "tw", "hk", "au", "ca",
    "eu", "ai", "gov", "edu", "name", "news", "zone", "plus", "cyou", "quest", "help", "support",
    "services", "finance", "money", "cash", "loan", "loans", "credit", "tel",
];

/// Endings that look like a TLD but are file names ("hoadon.pdf", "app.apk").
/// `.zip` and `.mov` are real TLDs but far more often file names in chat.
const FILE_EXTENSIONS: &[&str] = &[
    "txt", "jpg", "jpeg", "png", "gif", "webp", "heic", "bmp", "svg", "pdf", "doc", "docx", "xls",
    "xlsx", "ppt", "pptx", "csv", "zip", "rar", "7z", "apk", "ipa", "exe", "msi", "dmg", "mp3",
    "mp4", "mov", "avi", "mkv", "wav", "html", "htm", "php", "js", "json", "xml",
];

/// A Vietnamese national number (after `0` or `+84`) has 9 digits (mobile) or 10 (landline).
const MIN_NATIONAL_DIGITS: usize = 9;
/// `VietQR` allows accounts of 6–19 characters.
const MIN_ACCOUNT_DIGITS: usize = 6;
const MAX_ACCOUNT_DIGITS: usize = 19;
/// Without a cue word short numbers are too often codes or amounts.
const MIN_UNCUED_ACCOUNT_DIGITS: usize = 8;
/// Up to this many digits, a number ending in `000` is taken for an amount
/// written without unit ("CK 500000") unless an account-number cue precedes it.
const MAX_ROUND_AMOUNT_DIGITS: usize = 9;
/// How far (in chars) cue words are looked for around a number.
const CUE_WINDOW_BEFORE: usize = 40;
const CUE_WINDOW_AFTER: usize = 30;
/// A bank named within this many bytes after a number belongs to that number.
const BANK_OF_PREVIOUS_NUMBER: usize = 3;
/// A bank is often named once, earlier in the sentence ("nhân viên ngân hàng BIDV … số tài khoản 1261…").
const BANK_WINDOW_BEFORE: usize = 80;

/// Amount units right after a number: `500.000đ`, `50.000 VND`, `100k`, `2tr`.
/// Units that are also chat words must be glued to the number: "k" (không),
/// unaccented "ngan"/"dong" ("ngan hang" = ngân hàng, "Dong A" bank).
static MONEY_SUFFIX_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?xi)^(?:
            [\x20\xA0]? (?: đồng | vnđ | vnd | usd | đ | triệu | trieu | nghìn | ngàn | tỷ | tỉ ) \b
          | [\x20\xA0]? [₫$%]
          | (?: k | tr | củ | cu | ty | ti | dong | ngan | nghin ) \b
        )",
    )
    .expect("money suffix pattern is valid")
});

/// True when an amount unit follows the number ending at `end`. Only a short slice is searched: the pattern
/// is anchored, and a whole-message haystack would make the regex engine size its work to the message.
fn followed_by_money_unit(text: &str, end: usize) -> bool {
    MONEY_SUFFIX_RE.is_match(chars_after(text, end, MONEY_UNIT_LOOKAHEAD))
}

/// Longest unit (" triệu") plus the character that must end it.
const MONEY_UNIT_LOOKAHEAD: usize = 10;

/// Dot and its defanged spellings: `.`, `[.]`, `(.)`, `{.}`, `[dot]`, `(dot)`.
const DOMAIN_DOT: &str = r"(?:\.|\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\))";

static DOMAIN_RE: LazyLock<Regex> = LazyLock::new(|| {
    let dot = DOMAIN_DOT;
    // Unbounded repetition keeps the Unicode classes small; label length is not
    // policed because lookups only need a stable key. (`ascii_link` parses ASCII matches by hand.)
    let label = r"[\p{L}\p{N}](?:[\p{L}\p{N}\p{M}\-]*[\p{L}\p{N}\p{M}])?";
    let pattern = format!(
        r"(?xi)
        (?P<scheme> (?: h(?:tt|xx)ps? | ftp ) (?: :// | \[://\] | \[:\]// ) )?
        (?P<host> (?: {label} {dot} )+ (?P<tld> xn--[a-z0-9\-]+ | [a-z]{{2,24}} ) )
        (?: :[0-9]{{1,5}} )?
        (?: [/?\#] [^\s<>\x22]* )?"
    );
    Regex::new(&pattern).expect("domain pattern is valid")
});

static DEFANGED_DOT_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)").expect("defanged dot pattern is valid")
});

/// Characters stripped from the end of a URL span: sentence punctuation and closing quotes.
const URL_TRAILING_PUNCTUATION: &[char] = &[
    '.', ',', ';', ':', '!', '?', ')', ']', '}', '>', '\'', '"', '…', '»', '“', '”', '’',
];

/// Finds every phone number, bank account number, domain and VietQR transfer in `text`.
///
/// Entities are deduplicated by (kind, value) and returned in order of first appearance; spans are
/// byte ranges of `text` itself. A mobile number is one entity: a phone, or an account when an
/// account or payment word introduces it ("STK 0912345678"); either way [`Entity::lookup_keys`]
/// looks it up both ways, because many banks let the account number equal the phone number.
#[must_use]
pub fn extract(text: &str) -> Vec<Entity> {
    let prepared = PreparedText::new(text);
    let mut entities = extract_normalized(prepared.normalized());
    for entity in &mut entities {
        entity.span = prepared.to_original(entity.span.clone());
        entity.raw = text[entity.span.clone()].to_string();
    }
    entities
}

/// [`extract`] on text that is already normalised; spans index `text`.
fn extract_normalized(text: &str) -> Vec<Entity> {
    // One pass finds every number; phones need 9+ digits in one grouped run, accounts and QR payloads
    // ("000201…") 6+, and most chat numbers (prices, times) have fewer.
    let runs = numbers::number_runs(text);
    let longest_run = longest_digit_run(&runs);
    let qr = if runs
        .iter()
        .any(|run| may_hold_a_qr_payload(&text[run.span.clone()]))
    {
        find_qr_transfers(text)
    } else {
        Vec::new()
    };
    let qr_spans: Vec<Range<usize>> = qr.iter().map(|e| e.span.clone()).collect();
    let domains: Vec<Entity> = if may_hold_a_domain(text) {
        find_domains(text, TldPolicy::InText)
            .into_iter()
            .filter(|d| !overlaps_any(&d.span, &qr_spans))
            .collect()
    } else {
        Vec::new()
    };
    let mut blocked: Vec<Range<usize>> = domains.iter().map(|d| d.span.clone()).collect();
    blocked.extend(qr_spans.iter().cloned());

    let mut entities = qr;
    if longest_run >= MIN_ACCOUNT_DIGITS {
        // A phone in a link ("zalo.me/0912345678") still names that phone; only QR payloads hide digits.
        // Found on first need: messages whose numbers are all prices or dates never pay for it.
        let cues = LazyCues::new(text);
        let phones: Vec<Entity> = if longest_run >= MIN_NATIONAL_DIGITS {
            find_phones(text, &runs)
                .into_iter()
                .filter(|p| !overlaps_any(&p.span, &qr_spans))
                .map(|phone| phone_or_account(text, &cues, phone))
                .collect()
        } else {
            Vec::new()
        };
        let phone_spans: Vec<Range<usize>> = phones.iter().map(|p| p.span.clone()).collect();
        let accounts = find_accounts(text, &runs, &cues, &phone_spans, &blocked);
        entities.extend(phones);
        entities.extend(accounts);
    }
    entities.extend(domains);
    entities.sort_by_key(|e| (e.span.start, kind_rank(e.kind)));
    dedup_by_kind_and_value(entities)
}

/// Keeps the first entity of each (kind, value), in order. Messages hold a handful, so a linear scan
/// beats hashing.
fn dedup_by_kind_and_value(mut entities: Vec<Entity>) -> Vec<Entity> {
    let mut kept = 0;
    for i in 0..entities.len() {
        let seen = entities[..kept]
            .iter()
            .any(|k| k.kind == entities[i].kind && k.value == entities[i].value);
        if !seen {
            // Everything between `kept` and `i` is a dropped duplicate.
            entities.swap(kept, i);
            kept += 1;
        }
    }
    entities.truncate(kept);
    entities
}

/// Every VietQR payload starts with the payload-format indicator `000201` (see `vietqr`).
const QR_PAYLOAD_START: &[u8] = b"000201";

/// Six digits in a row lie inside one number run; most messages have no such run, and then `vietqr` is
/// not asked to search.
fn may_hold_a_qr_payload(run: &str) -> bool {
    run.as_bytes()
        .windows(QR_PAYLOAD_START.len())
        .any(|w| w == QR_PAYLOAD_START)
}

/// Digits in the longest number run.
fn longest_digit_run(runs: &[NumberRun]) -> usize {
    runs.iter().map(|run| run.digits).max().unwrap_or(0)
}

/// The message's cue words, found the first time a number needs them.
struct LazyCues<'a> {
    text: &'a str,
    cues: std::cell::OnceCell<Cues>,
}

impl<'a> LazyCues<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text,
            cues: std::cell::OnceCell::new(),
        }
    }

    fn get(&self) -> &Cues {
        self.cues.get_or_init(|| Cues::find(self.text))
    }
}

/// Cheap pre-check: every domain has a dot (or a defanged one) followed by a letter of its next label or TLD.
fn may_hold_a_domain(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut brackets = false;
    let mut from = 0;
    while let Some(at) = position_from(bytes, from, |b| matches!(b, b'.' | b'[' | b'(' | b'{')) {
        if bytes[at] != b'.' {
            brackets = true;
        } else if bytes.get(at + 1).is_some_and(u8::is_ascii_alphabetic) {
            return true;
        }
        from = at + 1;
    }
    brackets && DEFANGED_DOT_RE.is_match(text)
}

/// `[.]`, `(.)`, `{.}`, `[dot]` or `(dot)`, in any case.
fn has_defanged_dot(text: &str) -> bool {
    // Each starts with one of these brackets; most text has none, and then the regex is not run.
    text.bytes().any(|b| matches!(b, b'[' | b'(' | b'{')) && DEFANGED_DOT_RE.is_match(text)
}

fn find_qr_transfers(text: &str) -> Vec<Entity> {
    vietqr::find_payloads(text)
        .into_iter()
        .map(|transfer| {
            let bank = banks::by_bin(&transfer.bin);
            Entity {
                kind: EntityKind::BankAccount,
                value: transfer.account,
                raw: String::new(),
                span: transfer.span,
                bank_bin: Some(transfer.bin),
                bank_name: bank.map(|b| b.short_name),
                carrier: None,
            }
        })
        .collect()
}

/// A mobile number introduced by an account or payment word is taken for an account number.
fn phone_or_account(text: &str, cues: &LazyCues<'_>, phone: Entity) -> Entity {
    let written = &text[phone.span.clone()];
    let domestic_mobile = written.starts_with('0')
        && !written.starts_with("00")
        && phone.value.len() == "+84".len() + 9;
    if !domestic_mobile {
        return phone;
    }
    if !matches!(
        cue_before(text, cues, &phone.span),
        Some(Cue::AccountNumber | Cue::Payment)
    ) {
        return phone;
    }
    let bank = bank_near(text, cues, &phone.span);
    Entity {
        kind: EntityKind::BankAccount,
        value: digits_of(written),
        bank_bin: bank.and_then(|b| b.bin.map(str::to_string)),
        bank_name: bank.map(|b| b.short_name),
        carrier: None,
        ..phone
    }
}

/// One phone number as E.164, or `None` unless the whole input is one valid number.
pub(crate) fn normalize_phone(raw: &str) -> Option<String> {
    let text = normalize_text(raw);
    let text = text.trim();
    match find_phones(text, &numbers::number_runs(text)).as_slice() {
        [only] if only.span == (0..text.len()) => Some(only.value.clone()),
        _ => None,
    }
}

/// One account number as digits, or `None` unless the input is 6–19 digits
/// (grouping spaces, dots and dashes allowed).
pub(crate) fn normalize_account(raw: &str) -> Option<String> {
    let text = normalize_text(raw);
    let mut digits = String::new();
    for c in text.chars() {
        match c {
            '0'..='9' => digits.push(c),
            '.' | '-' => {}
            c if c.is_whitespace() => {}
            _ => return None,
        }
    }
    (MIN_ACCOUNT_DIGITS..=MAX_ACCOUNT_DIGITS)
        .contains(&digits.len())
        .then_some(digits)
}

/// One domain, from a bare domain, a URL (possibly defanged) or a `*.` wildcard.
pub(crate) fn normalize_domain(raw: &str) -> Option<String> {
    let text = normalize_text(raw);
    let text = text.trim();
    let text = text.strip_prefix("*.").unwrap_or(text);
    let first = find_domains(text, TldPolicy::Explicit).into_iter().next()?;
    let rest = &text[first.span.end..];
    let whole_input = first.span.start == 0
        && rest
            .chars()
            .all(|c| c.is_whitespace() || URL_TRAILING_PUNCTUATION.contains(&c));
    whole_input.then_some(first.value)
}

fn kind_rank(kind: EntityKind) -> usize {
    EntityKind::ALL
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(EntityKind::ALL.len())
}

fn digits_of(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

fn overlaps_any(range: &Range<usize>, others: &[Range<usize>]) -> bool {
    others
        .iter()
        .any(|other| range.start < other.end && other.start < range.end)
}

// ---------------------------------------------------------------- phones

fn find_phones(text: &str, runs: &[NumberRun]) -> Vec<Entity> {
    let mut phones = Vec::new();
    let mut from = 0;
    for window in numbers::phone_search_windows(runs) {
        from = from.max(window.start);
        while let Some(shape) = numbers::next_phone_shape(text, from, window.end) {
            let national = shape.national.as_str();
            let accepted = is_valid_national_number(national)
                && is_standalone_number(text, shape.span.clone())
                && !followed_by_money_unit(text, shape.span.end);
            if accepted {
                let mut value = String::with_capacity(VN_COUNTRY_PREFIX.len() + national.len());
                value.push_str(VN_COUNTRY_PREFIX);
                value.push_str(national);
                phones.push(Entity {
                    kind: EntityKind::Phone,
                    carrier: mobile_carrier(national).filter(|_| national.len() == 9),
                    value,
                    raw: String::new(),
                    span: shape.span.clone(),
                    bank_bin: None,
                    bank_name: None,
                });
                from = shape.span.end;
            } else {
                // A rejected candidate may still hide a valid one starting later inside it (candidates
                // start with an ASCII byte, so the next byte is a char boundary).
                from = shape.span.start + 1;
            }
        }
    }
    phones
}

/// Valid per libphonenumber's metadata (mobile: also an operator in our table; landline: `2x` area codes).
fn is_valid_national_number(national: &str) -> bool {
    let shape_ok = match national.len() {
        9 => mobile_carrier(national).is_some(),
        10 => national.starts_with('2'), // landline 02xx + 7 digits
        _ => false,
    };
    shape_ok && libphonenumber_valid(national)
}

/// libphonenumber's verdict, memoised per (length, first three national digits): Vietnam's metadata
/// decides validity by such prefixes (e.g. `89[6-9]\d{6}`, `9[0-8]\d{7}`), and parsing with the full
/// metadata costs microseconds per number. The unit test `memoised_validity_matches_libphonenumber`
/// checks the assumption over every prefix.
fn libphonenumber_valid(national: &str) -> bool {
    static MEMO: LazyLock<[[std::sync::OnceLock<bool>; 1000]; 2]> = LazyLock::new(|| {
        std::array::from_fn(|_| std::array::from_fn(|_| std::sync::OnceLock::new()))
    });
    let slot = match national.len() {
        9 => 0,
        10 => 1,
        _ => return libphonenumber_valid_uncached(national),
    };
    let Some(prefix) = national.get(..3).and_then(|p| p.parse::<usize>().ok()) else {
        return false;
    };
    *MEMO[slot][prefix].get_or_init(|| libphonenumber_valid_uncached(national))
}

fn libphonenumber_valid_uncached(national: &str) -> bool {
    phonenumber::parse(Some(phonenumber::country::Id::VN), format!("0{national}"))
        .is_ok_and(|number| phonenumber::is_valid(&number))
}

/// False when the candidate is only part of a longer number: glued to a digit
/// or joined to one by `.`/`-`.
fn is_standalone_number(text: &str, range: Range<usize>) -> bool {
    let mut before = text[..range.start].chars().rev();
    let continues_before = match before.next() {
        Some(c) if c.is_ascii_digit() => true,
        Some('.' | '-') => before.next().is_some_and(|c| c.is_ascii_digit()),
        _ => false,
    };
    let mut after = text[range.end..].chars();
    let continues_after = match after.next() {
        Some(c) if c.is_ascii_digit() => true,
        Some('.' | '-') => after.next().is_some_and(|c| c.is_ascii_digit()),
        _ => false,
    };
    !continues_before && !continues_after
}

// -------------------------------------------------------------- accounts

fn find_accounts(
    text: &str,
    runs: &[NumberRun],
    cues: &LazyCues<'_>,
    phone_spans: &[Range<usize>],
    url_spans: &[Range<usize>],
) -> Vec<Entity> {
    let mut accounts = Vec::new();
    for run in runs {
        if run.digits < MIN_ACCOUNT_DIGITS {
            continue; // no piece of it can be an account
        }
        if overlaps_any(&run.span, url_spans) {
            continue; // digits in a link path or query are not accounts
        }
        if run.digits <= MAX_ACCOUNT_DIGITS && !overlaps_any(&run.span, phone_spans) {
            // The common case, without the cutting below: a run starts and ends on a digit, and one
            // this short is not split.
            accounts.extend(account_at(text, cues, run.span.clone()));
            continue;
        }
        for piece in subtract_spans(run.span.clone(), phone_spans) {
            let Some(piece) = trim_to_digits(text, piece) else {
                continue;
            };
            for candidate in split_overlong(text, piece) {
                accounts.extend(account_at(text, cues, candidate));
            }
        }
    }
    accounts
}

/// `range` minus every span in `spans`, as the remaining sub-ranges in order.
fn subtract_spans(range: Range<usize>, spans: &[Range<usize>]) -> Vec<Range<usize>> {
    let mut overlapping: Vec<&Range<usize>> = spans
        .iter()
        .filter(|s| s.start < range.end && range.start < s.end)
        .collect();
    overlapping.sort_by_key(|s| s.start);
    let mut pieces = Vec::new();
    let mut cursor = range.start;
    for span in overlapping {
        if span.start > cursor {
            pieces.push(cursor..span.start);
        }
        cursor = cursor.max(span.end);
    }
    if cursor < range.end {
        pieces.push(cursor..range.end);
    }
    pieces
}

/// Shrinks `range` to start and end on a digit (pieces cut around a phone keep separators).
fn trim_to_digits(text: &str, range: Range<usize>) -> Option<Range<usize>> {
    let slice = &text[range.clone()];
    let start = slice.find(|c: char| c.is_ascii_digit())?;
    let end = slice.rfind(|c: char| c.is_ascii_digit())? + 1;
    Some(range.start + start..range.start + end)
}

/// A run longer than any account is usually several numbers separated by
/// spaces; then each space-free group is considered on its own.
fn split_overlong(text: &str, range: Range<usize>) -> Vec<Range<usize>> {
    let slice = &text[range.clone()];
    if digits_of(slice).len() <= MAX_ACCOUNT_DIGITS {
        return vec![range];
    }
    let mut groups = Vec::new();
    let mut group_start = 0;
    for (i, c) in slice.char_indices() {
        if c == ' ' || c == '\u{A0}' {
            groups.push(range.start + group_start..range.start + i);
            group_start = i + c.len_utf8();
        }
    }
    groups.push(range.start + group_start..range.end);
    groups
}

fn account_at(text: &str, cues: &LazyCues<'_>, range: Range<usize>) -> Option<Entity> {
    let written = &text[range.clone()];
    // The digits, on the stack: most candidates are rejected, and they should not cost an allocation.
    let mut digit_buffer = [0u8; MAX_ACCOUNT_DIGITS];
    let mut count = 0;
    for digit in written.bytes().filter(u8::is_ascii_digit) {
        if let Some(slot) = digit_buffer.get_mut(count) {
            *slot = digit;
        }
        count += 1;
    }
    if !(MIN_ACCOUNT_DIGITS..=MAX_ACCOUNT_DIGITS).contains(&count) {
        return None;
    }
    let digits = std::str::from_utf8(&digit_buffer[..count]).ok()?;
    if is_inside_word(text, &range)
        || is_part_of_date_or_time(text, &range)
        || numbers::is_dot_grouped_thousands(written)
        || looks_like_date(written)
        || is_list_of_years(written)
        || followed_by_money_unit(text, range.end)
    {
        return None;
    }
    let cue = cue_near(text, cues, &range);
    if cue != Cue::AccountNumber
        && (is_service_number(digits) || is_old_mobile(digits) || is_compact_date(digits))
    {
        return None;
    }
    // `TK2024-0915`: a code glued to its letters, even though they spell an account cue.
    if is_compact_date(digits) && has_code_prefix(text, &range) {
        return None;
    }
    let round_amount = digits.len() <= MAX_ROUND_AMOUNT_DIGITS && digits.ends_with("000");
    if cue == Cue::NotAccount
        || (round_amount && cue != Cue::AccountNumber)
        || (has_code_prefix(text, &range) && cue == Cue::Nothing)
    {
        return None;
    }
    let min_digits = if cue == Cue::Nothing {
        MIN_UNCUED_ACCOUNT_DIGITS
    } else {
        MIN_ACCOUNT_DIGITS
    };
    if digits.len() < min_digits {
        return None;
    }
    let bank = bank_near(text, cues, &range);
    Some(Entity {
        kind: EntityKind::BankAccount,
        value: digits.to_string(),
        raw: String::new(),
        bank_bin: bank.and_then(|b| b.bin.map(str::to_string)),
        bank_name: bank.map(|b| b.short_name),
        carrier: None,
        span: range,
    })
}

/// `0168 823 4571`: an 11-digit mobile number from before the 2018 renumbering.
fn is_old_mobile(digits: &str) -> bool {
    digits.len() == 11 && digits.starts_with("01")
}

/// `20240915`: a date written as YYYYMMDD (builds, versions, codes).
fn is_compact_date(digits: &str) -> bool {
    digits.len() == 8
        && is_year(&digits[..4])
        && parse_in(&digits[4..6], 2, 1..13)
        && parse_in(&digits[6..], 2, 1..32)
}

/// `1900 xxxx`, `1800 xxxx` (and their 10-digit forms): paid and free service lines, not accounts.
fn is_service_number(digits: &str) -> bool {
    (digits.starts_with("1900") || digits.starts_with("1800")) && matches!(digits.len(), 8 | 10)
}

/// The bank or wallet named nearest to the number: before it within the cue window, or after it.
fn bank_near(text: &str, cues: &LazyCues<'_>, range: &Range<usize>) -> Option<&'static Bank> {
    let cues = cues.get();
    let bank_of = |hit: &CueHit| match hit.class {
        CueClass::Bank(bank) => Some(bank),
        _ => None,
    };
    let before_start = range.start - chars_before(text, range.start, BANK_WINDOW_BEFORE).len();
    let after_end = range.end + chars_after(text, range.end, CUE_WINDOW_AFTER).len();
    let before = cues
        .within(before_start..range.start)
        .iter()
        .rev()
        .find_map(|hit| bank_of(hit).map(|bank| (range.start - hit.span.1, bank)));
    let after = cues
        .within(range.end..after_end)
        .iter()
        .find_map(|hit| bank_of(hit).map(|bank| (hit.span.0 - range.end, bank)));
    match (before, after) {
        (Some(b), Some(a)) => Some(if a.0 < b.0 { a.1 } else { b.1 }),
        (Some((_, bank)), None) | (None, Some((_, bank))) => Some(bank),
        (None, None) => None,
    }
}

/// Digits with letters on both sides are part of a code such as `FT2314567890AB`.
fn is_inside_word(text: &str, range: &Range<usize>) -> bool {
    let letter_before = text[..range.start]
        .chars()
        .next_back()
        .is_some_and(char::is_alphabetic);
    let letter_after = text[range.end..]
        .chars()
        .next()
        .is_some_and(char::is_alphabetic);
    letter_before && letter_after
}

/// `DH20240512001`, `#12345678`: order, reference or ticket codes, unless a
/// cue says otherwise (`STK0071000123456`).
fn has_code_prefix(text: &str, range: &Range<usize>) -> bool {
    text[..range.start]
        .chars()
        .next_back()
        .is_some_and(|c| c.is_alphabetic() || c == '#')
}

/// Digits joined to other digits by `/` or `:` belong to a date, time or ratio
/// (`12/05/2024 10:30` gives the run `2024 10`). `STK:1903…` is still fine.
fn is_part_of_date_or_time(text: &str, range: &Range<usize>) -> bool {
    let mut before = text[..range.start].chars().rev();
    let joined_before = matches!(before.next(), Some('/' | ':'))
        && before.next().is_some_and(|c| c.is_ascii_digit());
    let mut after = text[range.end..].chars();
    let joined_after =
        matches!(after.next(), Some('/' | ':')) && after.next().is_some_and(|c| c.is_ascii_digit());
    joined_before || joined_after
}

fn number_groups(written: &str) -> impl Iterator<Item = &str> {
    written
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
}

fn parse_in(group: &str, max_len: usize, valid: Range<u32>) -> bool {
    group.len() <= max_len && group.parse::<u32>().is_ok_and(|n| valid.contains(&n))
}

fn is_year(group: &str) -> bool {
    group.len() == 4 && parse_in(group, 4, 1900..2100)
}

/// `12-05-2024`, `12.05.24`, `2024-05-12`, `05.2024`: dates written with separators.
fn looks_like_date(written: &str) -> bool {
    let is_day = |g: &str| parse_in(g, 2, 1..32);
    let is_month = |g: &str| parse_in(g, 2, 1..13);
    let is_short_or_full_year = |g: &str| g.len() == 2 || is_year(g);
    // Up to four groups: three are a date at most, four or more are not one.
    let mut groups = [""; 4];
    let mut count = 0;
    for (slot, group) in groups.iter_mut().zip(number_groups(written)) {
        *slot = group;
        count += 1;
    }
    match &groups[..count] {
        [d, m, y] => {
            (is_day(d) && is_month(m) && is_short_or_full_year(y))
                || (is_year(d) && is_month(m) && is_day(y))
        }
        [m, y] => (is_month(m) && is_year(y)) || (is_year(m) && is_month(y)),
        _ => false,
    }
}

/// `2023 2024`: several years in a row.
fn is_list_of_years(written: &str) -> bool {
    let mut count = 0;
    number_groups(written).all(|g| {
        count += 1;
        is_year(g)
    }) && count >= 2
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Cue {
    AccountNumber,
    Payment,
    NotAccount,
    Nothing,
}

/// The cue word nearest before the number decides; failing that, a bank or
/// account word shortly after it ("1903… Techcombank") counts as a payment cue.
fn cue_near(text: &str, cues: &LazyCues<'_>, range: &Range<usize>) -> Cue {
    if let Some(cue) = cue_before(text, cues, range) {
        return cue;
    }
    let after_end = range.end + chars_after(text, range.end, CUE_WINDOW_AFTER).len();
    let payment_after = cues
        .get()
        .within(range.end..after_end)
        .iter()
        .any(|hit| !matches!(hit.class, CueClass::NotAccount));
    if payment_after {
        Cue::Payment
    } else {
        Cue::Nothing
    }
}

/// The kind of the cue word nearest before the number, if any is within the window.
fn cue_before(text: &str, cues: &LazyCues<'_>, range: &Range<usize>) -> Option<Cue> {
    let window_start = range.start - chars_before(text, range.start, CUE_WINDOW_BEFORE).len();
    // A cue belongs to the number right after it: one with another number in between is used up
    // ("STK 1010 5566 7788 Vietin. LH 0868 390 527").
    let (from, after_number) =
        match text[window_start..range.start].rfind(|c: char| c.is_ascii_digit()) {
            Some(at) => (window_start + at + 1, true),
            None => (window_start, false),
        };
    cues.get()
        .within(from..range.start)
        .iter()
        .rev()
        // A bank named right after the previous number is that number's bank ("… 2276 Vietcombank, bác sĩ
        // trực 0832…"), not a cue for this one.
        .find(|hit| {
            !(after_number
                && !matches!(hit.class, CueClass::AccountNumber | CueClass::NotAccount)
                && hit.span.0 - from <= BANK_OF_PREVIOUS_NUMBER)
        })
        .map(|hit| match hit.class {
            CueClass::AccountNumber => Cue::AccountNumber,
            CueClass::Payment | CueClass::Bank(_) => Cue::Payment,
            CueClass::NotAccount => Cue::NotAccount,
        })
}

fn chars_before(text: &str, end: usize, count: usize) -> &str {
    let start = match count.checked_sub(1) {
        Some(last) => text[..end]
            .char_indices()
            .rev()
            .nth(last)
            .map_or(0, |(i, _)| i),
        None => end,
    };
    &text[start..end]
}

fn chars_after(text: &str, start: usize, count: usize) -> &str {
    let end = text[start..]
        .char_indices()
        .nth(count)
        .map_or(text.len(), |(i, _)| start + i);
    &text[start..end]
}

// --------------------------------------------------------------- domains

#[derive(Clone, Copy, PartialEq, Eq)]
enum TldPolicy {
    /// Free text: a bare `name.tld` needs a TLD from [`COMMON_TLDS`].
    InText,
    /// The caller says the value is a domain: any alphabetic TLD.
    Explicit,
}

fn find_domains(text: &str, policy: TldPolicy) -> Vec<Entity> {
    domain_matches(text)
        .into_iter()
        .filter_map(|found| domain_at(text, policy, found))
        .collect()
}

/// One match of [`DOMAIN_RE`], as byte ranges of the text searched.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DomainMatch {
    whole: Range<usize>,
    host: Range<usize>,
    tld: Range<usize>,
    has_scheme: bool,
}

/// Every match of [`DOMAIN_RE`] in `text`, in order: what `captures_iter` on the whole text gives, for
/// less work.
fn domain_matches(text: &str) -> Vec<DomainMatch> {
    let mut matches = Vec::new();
    // A match never spans whitespace and always has a TLD after a dot, plain or defanged, so only words
    // with such a dot are searched. Capture groups come from the match alone (where the highest-priority
    // match is the match itself): parsed by hand when it is ASCII, by the regex otherwise.
    for word in words_with_a_dot(text) {
        for found in DOMAIN_RE.find_iter(&text[word.clone()]) {
            let start = word.start + found.start();
            let parts = ascii_link::parse(found.as_str()).or_else(|| {
                let caps = DOMAIN_RE.captures(found.as_str())?;
                Some(LinkParts {
                    host: caps.name("host")?.range(),
                    tld: caps.name("tld")?.range(),
                    has_scheme: caps.name("scheme").is_some(),
                })
            });
            if let Some(parts) = parts {
                matches.push(DomainMatch {
                    whole: start..start + found.len(),
                    host: start + parts.host.start..start + parts.host.end,
                    tld: start + parts.tld.start..start + parts.tld.end,
                    has_scheme: parts.has_scheme,
                });
            }
        }
    }
    matches
}

/// The words (whitespace-free stretches, as byte ranges) of `text` where a TLD may follow a dot: those
/// with a dot followed by a letter (perhaps a non-ASCII one, as `(?i)[a-z]` also matches `K`, the Kelvin
/// sign), or with a defanged dot. Prices such as `1.500.000đ` are not looked at.
fn words_with_a_dot(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut words = Vec::new();
    let mut from = 0;
    while let Some(at) = position_from(bytes, from, |b| matches!(b, b'.' | b'[' | b'(' | b'{')) {
        let word = word_around(text, from, at);
        let candidate = &text[word.clone()];
        let dot_then_letter = candidate
            .as_bytes()
            .windows(2)
            .any(|pair| pair[0] == b'.' && (pair[1].is_ascii_alphabetic() || !pair[1].is_ascii()));
        if dot_then_letter || has_defanged_dot(candidate) {
            words.push(word.clone());
        }
        from = word.end;
    }
    words
}

/// The whitespace-free stretch of `text` around the non-whitespace byte `at`, starting no earlier than
/// `from`.
fn word_around(text: &str, from: usize, at: usize) -> Range<usize> {
    let start = text[from..at]
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace())
        .map_or(from, |(i, c)| from + i + c.len_utf8());
    let end = text[at..]
        .char_indices()
        .find(|(_, c)| c.is_whitespace())
        .map_or(text.len(), |(i, _)| at + i);
    start..end
}

/// The domain entity for one match of [`DOMAIN_RE`], unless the context or the TLD says it is not one.
fn domain_at(text: &str, policy: TldPolicy, found: DomainMatch) -> Option<Entity> {
    let DomainMatch {
        whole,
        host,
        tld,
        has_scheme,
    } = found;
    let tld_text = &text[tld];
    let is_tld = |listed: &&str| listed.eq_ignore_ascii_case(tld_text);

    let before = text[..whole.start].chars().next_back();
    let mut after_host = text[host.end..].chars();
    // Part of a bigger token, or either side of an e-mail address
    // ("nguyen.vn.a@x.com" must not yield "nguyen.vn").
    let embedded = before.is_some_and(|c| is_host_char(c) || matches!(c, '@' | '.' | '_'))
        || match after_host.next() {
            Some('.') => after_host.next().is_some_and(is_host_char),
            Some(c) => is_host_char(c) || matches!(c, '@' | '_'),
            None => false,
        };
    if embedded || FILE_EXTENSIONS.iter().any(is_tld) {
        return None;
    }

    let host_text = &text[host.clone()];
    // Only `W` and `w` lowercase to `w`, so comparing bytes is comparing the lowercased host.
    let has_url_signal = has_scheme
        || has_defanged_dot(host_text)
        || host_text
            .get(..3)
            .is_some_and(|head| head.eq_ignore_ascii_case("www"));
    let tld_accepted = policy == TldPolicy::Explicit
        || has_url_signal
        || tld_text
            .get(..4)
            .is_some_and(|head| head.eq_ignore_ascii_case("xn--"))
        || COMMON_TLDS.iter().any(is_tld);
    if !tld_accepted {
        return None;
    }

    let value = normalize_host(host_text)?;
    let end = whole.start
        + text[whole.clone()]
            .trim_end_matches(URL_TRAILING_PUNCTUATION)
            .len();
    Some(Entity {
        kind: EntityKind::Domain,
        value,
        raw: String::new(),
        span: whole.start..end.max(host.end),
        bank_bin: None,
        bank_name: None,
        carrier: None,
    })
}

fn is_host_char(c: char) -> bool {
    c.is_alphanumeric() || c == '-'
}

/// Lowercase, defanged dots restored, no trailing dot, no leading `www.`.
fn normalize_host(host: &str) -> Option<String> {
    let host = if has_defanged_dot(host) {
        DEFANGED_DOT_RE.replace_all(host, ".").to_lowercase()
    } else {
        host.to_lowercase()
    };
    let host = host.trim_end_matches('.');
    let without_www = host
        .split_once('.')
        .filter(|(first, rest)| is_www_label(first) && rest.contains('.'))
        .map_or(host, |(_, rest)| rest);
    if without_www.is_empty() {
        return None;
    }
    if without_www.is_ascii() {
        return Some(without_www.to_string());
    }
    // IDN: the ASCII (punycode) form is the one lists and lookups use.
    idna::domain_to_ascii(without_www)
        .ok()
        .filter(|ascii| !ascii.is_empty())
}

/// The host and each parent domain down to the registrable one (public suffix list):
/// `login.vcb-xacthuc.com.vn` → `[login.vcb-xacthuc.com.vn, vcb-xacthuc.com.vn]`.
#[must_use]
pub fn domain_and_parents(host: &str) -> Vec<String> {
    let mut names = vec![host.to_string()];
    let Some(registrable) = psl::domain_str(host) else {
        return names;
    };
    let mut rest = host;
    while rest.len() > registrable.len() {
        match rest.split_once('.') {
            Some((_, parent)) if parent.len() >= registrable.len() => {
                names.push(parent.to_string());
                rest = parent;
            }
            _ => break,
        }
    }
    names
}

/// `www`, `www2`, `www3`…
fn is_www_label(label: &str) -> bool {
    label
        .strip_prefix("www")
        .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str, kind: EntityKind) -> Vec<String> {
        extract(text)
            .into_iter()
            .filter(|e| e.kind == kind)
            .map(|e| e.value)
            .collect()
    }

    fn phones(text: &str) -> Vec<String> {
        values(text, EntityKind::Phone)
    }

    fn accounts(text: &str) -> Vec<String> {
        values(text, EntityKind::BankAccount)
    }

    fn domains(text: &str) -> Vec<String> {
        values(text, EntityKind::Domain)
    }

    fn entity(kind: EntityKind, value: &str) -> (EntityKind, String) {
        (kind, value.to_string())
    }

    // ------------------------------------------------------------ example

    #[test]
    fn brief_example_yields_account_phone_and_domain() {
        let text = "chị ơi chuyển khoản vào STK 1903 6688 8888 Techcombank, gọi 0912.345.678 hoặc vào vietcombank-xacminh[.]com";
        let found: Vec<(EntityKind, String)> = extract(text)
            .into_iter()
            .map(|e| (e.kind, e.value))
            .collect();
        assert_eq!(
            found,
            vec![
                entity(EntityKind::BankAccount, "190366888888"),
                entity(EntityKind::Phone, "+84912345678"),
                entity(EntityKind::Domain, "vietcombank-xacminh.com"),
            ]
        );
    }

    #[test]
    fn spans_point_into_the_text_as_written() {
        let raw = "STK 1903 6688 8888, gọi 0912.345.678 hoặc vào vietcombank-xacminh[.]com nhé";
        let found = extract(raw);
        let written: Vec<&str> = found.iter().map(|e| &raw[e.span.clone()]).collect();
        assert!(found.iter().all(|e| e.raw == raw[e.span.clone()]));
        assert_eq!(
            written,
            vec![
                "1903 6688 8888",
                "0912.345.678",
                "vietcombank-xacminh[.]com"
            ]
        );
    }

    // -------------------------------------------------------------- phones

    #[test]
    fn every_common_phone_shape_is_normalised_to_e164() {
        for shape in [
            "0912345678",
            "0912 345 678",
            "0912.345.678",
            "091-234-5678",
            "+84 912 345 678",
            "+84912345678",
            "84912345678",
            "(+84) 912345678",
            "(84) 912 345 678",
            "0084912345678",
            "+84 0912345678",
            "+84 (0) 912 345 678",
        ] {
            let text = format!("liên hệ {shape} nhé");
            assert_eq!(phones(&text), vec!["+84912345678"], "shape {shape:?}");
        }
    }

    #[test]
    fn phone_at_text_edges_and_glued_to_punctuation() {
        assert_eq!(phones("0912345678"), vec!["+84912345678"]);
        assert_eq!(phones("SĐT:0912345678."), vec!["+84912345678"]);
        assert_eq!(phones("(0912345678)"), vec!["+84912345678"]);
        // A stray '+' before the domestic form is a typo, not a foreign number.
        assert_eq!(phones("+0912345678"), vec!["+84912345678"]);
    }

    #[test]
    fn all_mobile_ranges_are_accepted() {
        for number in [
            "0321234567",
            "0561234567",
            "0761234567",
            "0871234567",
            "0991234567",
        ] {
            assert_eq!(phones(number).len(), 1, "{number}");
        }
    }

    #[test]
    fn landline_numbers_have_eleven_digits() {
        assert_eq!(phones("tổng đài 024 3825 1234"), vec!["+842438251234"]);
        assert_eq!(phones("02838251234"), vec!["+842838251234"]);
        assert_eq!(phones("+84 28 3825 1234"), vec!["+842838251234"]);
        // Ten digits starting 02 is not a valid number.
        assert!(phones("0243825123").is_empty());
    }

    #[test]
    fn unallocated_or_old_prefixes_are_not_phones() {
        for number in [
            "0951234567",
            "0121234567",
            "0123456789",
            "0411234567",
            "0611234567",
            "0301234567",
        ] {
            assert!(phones(number).is_empty(), "{number}");
        }
    }

    #[test]
    fn digits_inside_longer_runs_are_not_phones() {
        for text in [
            "09123456789",
            "10912345678",
            "190366888888880912345678",
            "0912.345.678.9",
            "1.0912.345.678",
            "+84 912 345 6789",
            "0084 912 345 6789",
            "98491234567",
            "0912-345-678-123",
        ] {
            assert!(phones(text).is_empty(), "{text:?} gave {:?}", phones(text));
        }
    }

    #[test]
    fn wrong_digit_counts_are_not_phones() {
        assert!(phones("091234567").is_empty());
        assert!(phones("8491234567").is_empty());
    }

    #[test]
    fn large_amounts_shaped_like_phones_are_not_phones() {
        assert!(phones("hoàn tiền 84.900.000.000 đồng").is_empty());
        assert!(accounts("hoàn tiền 84.900.000.000 đồng").is_empty());
    }

    #[test]
    fn a_mobile_is_an_account_only_when_introduced_as_one_but_looked_up_both_ways() {
        assert!(accounts("gọi 0912 345 678").is_empty());
        let as_account = extract("STK 0912 345 678 MB nhé");
        assert_eq!(as_account.len(), 1);
        assert_eq!(as_account[0].kind, EntityKind::BankAccount);
        assert_eq!(as_account[0].value, "0912345678");
        assert_eq!(as_account[0].bank_bin.as_deref(), Some("970422"));
        assert_eq!(
            as_account[0].lookup_keys(),
            vec![
                entity(EntityKind::BankAccount, "0912345678"),
                entity(EntityKind::Phone, "+84912345678")
            ]
        );
        let as_phone = extract("gọi 0912 345 678");
        assert_eq!(as_phone[0].carrier, Some("Vinaphone"));
        assert_eq!(
            as_phone[0].lookup_keys(),
            vec![
                entity(EntityKind::Phone, "+84912345678"),
                entity(EntityKind::BankAccount, "0912345678")
            ]
        );
        // A number to call, even after a payment word, stays a phone.
        assert_eq!(
            phones("chuyển khoản xong thì gọi 0912345678"),
            vec!["+84912345678"]
        );
        assert!(accounts("gọi +84 912 345 678").is_empty());
        // Landlines are not vanity account numbers.
        assert_eq!(
            extract("gọi 024 3825 1234")[0].lookup_keys(),
            vec![entity(EntityKind::Phone, "+842438251234")]
        );
    }

    #[test]
    fn several_phones_keep_order() {
        assert_eq!(
            phones("gọi 0987654321 hoặc +84 912 345 678, hoặc 0339 999 999"),
            vec!["+84987654321", "+84912345678", "+84339999999"]
        );
    }

    // ------------------------------------------------------------ accounts

    #[test]
    fn grouped_accounts_with_cue_words() {
        for text in [
            "STK 1903 6688 8888",
            "STK: 1903.6688.8888",
            "số TK 1903-6688-8888",
            "số tài khoản: 190366888888",
            "so tai khoan 190366888888",
            "tk 190366888888",
            "CTK Nguyễn Văn A - 190366888888",
            "NH Techcombank 190366888888",
            "1903 6688 8888 Techcombank",
            "190366888888 (VCB)",
        ] {
            assert_eq!(accounts(text), vec!["190366888888"], "{text:?}");
        }
    }

    #[test]
    fn short_accounts_need_a_cue() {
        assert_eq!(accounts("MB 123456"), vec!["123456"]);
        assert_eq!(accounts("chuyển khoản MoMo 1234567"), vec!["1234567"]);
        assert!(accounts("số 123456").is_empty());
        assert!(accounts("có 1234567 người").is_empty());
        assert_eq!(accounts("gửi vào 12345678 nhé"), vec!["12345678"]);
    }

    #[test]
    fn accounts_outside_length_limits_are_ignored() {
        assert!(accounts("STK 12345").is_empty());
        assert_eq!(
            accounts("STK 1234567890123456789"),
            vec!["1234567890123456789"]
        );
        assert!(accounts("STK 12345678901234567890").is_empty());
    }

    #[test]
    fn space_joined_numbers_are_split_when_too_long() {
        assert_eq!(
            accounts("STK 19036688888888 12345678901"),
            vec!["19036688888888", "12345678901"]
        );
    }

    #[test]
    fn phone_inside_a_space_joined_run_is_cut_out() {
        // The cue belongs to the first number; the mobile after it is a phone (looked up both ways).
        let text = "STK 190366888888 0912345678";
        assert_eq!(accounts(text), vec!["190366888888"]);
        assert_eq!(phones(text), vec!["+84912345678"]);
    }

    #[test]
    fn non_mobile_ten_digit_number_is_only_an_account() {
        assert!(phones("STK 0951234567").is_empty());
        assert_eq!(accounts("STK 0951234567"), vec!["0951234567"]);
    }

    #[test]
    fn prices_are_not_accounts() {
        for text in [
            "chuyển khoản 500.000đ",
            "CK 500.000 đồng vào STK",
            "giá 1,5tr thôi",
            "STK nhận 2 triệu",
            "nạp 100k",
            "phí 50.000 VND",
            "CK 15.000.000 VND",
            "chuyển khoản 2500000đ",
            "chuyển khoản 1500000 đồng",
            "STK: trả 12000000 vnđ",
            "ck 3000000dong",
            "trả 3000000 đồng",
            "ngân hàng cho vay 500000000 VND",
            "chuyển 25000000₫ vào tk",
            "lãi 12345678%",
            "tk 5000000k",
            "chuyển khoản số tiền 5000000 vào tk",
            "chuyển khoản 1.500.000 cho chị",
        ] {
            assert!(
                accounts(text).is_empty(),
                "{text:?} gave {:?}",
                accounts(text)
            );
        }
    }

    #[test]
    fn round_amounts_without_unit_are_not_accounts() {
        for text in [
            "ck 500000 cho anh",
            "chuyển khoản 12000000 nhé",
            "gửi 15000000 trước",
            "Vietcombank 2000000",
        ] {
            assert!(
                accounts(text).is_empty(),
                "{text:?} gave {:?}",
                accounts(text)
            );
        }
        // An explicit account cue, or ten digits and more, still count.
        assert_eq!(accounts("STK 123456000"), vec!["123456000"]);
        assert_eq!(accounts("ck vào 1234567000"), vec!["1234567000"]);
    }

    #[test]
    fn chat_words_after_an_account_are_not_units() {
        assert_eq!(
            accounts("STK 190366888888 k phải của em"),
            vec!["190366888888"]
        );
        assert_eq!(
            accounts("chuyen khoan vao so tai khoan 190 366 888 888 ngan hang techcombank"),
            vec!["190366888888"]
        );
        assert_eq!(accounts("stk 0101234567 dong a bank"), vec!["0101234567"]);
    }

    #[test]
    fn dates_times_and_years_are_not_accounts() {
        for text in [
            "CK ngày 12/05/2024",
            "năm 2024 chuyển khoản",
            "STK gửi lúc 10:30",
            "chuyển khoản 12-05-2024",
            "STK hết hạn 2024-05-12",
            "ngày 12.05.2024 lúc 10:30 chuyển khoản",
            "tk tháng 05.2024",
            "ck ngày 12.05.24",
            "ngân hàng từ 2023 2024",
            "12/05/2024 10:30:45",
            "STK hẹn 12/05/2024 10:30",
            "tỷ lệ 1/2024 55 CK",
        ] {
            assert!(
                accounts(text).is_empty(),
                "{text:?} gave {:?}",
                accounts(text)
            );
        }
    }

    #[test]
    fn codes_and_ids_are_not_accounts() {
        for text in [
            "mã OTP 12345678",
            "OTP của bạn là 987654321",
            "CCCD 001099012345",
            "số CMND 123456789",
            "mã đơn hàng 123456789",
            "mã GD FT2314567890AB",
            "hotline 19001234",
            "Techcombank: mã xác thực 12345678",
        ] {
            assert!(
                accounts(text).is_empty(),
                "{text:?} gave {:?}",
                accounts(text)
            );
        }
    }

    #[test]
    fn letter_or_hash_prefixed_codes_need_a_cue() {
        assert!(accounts("đơn #20240512001 đã giao").is_empty());
        assert!(accounts("mã tham chiếu FT23145678901").is_empty());
        assert!(accounts("ref DH20240512001 ok").is_empty());
        assert_eq!(accounts("STK0071000123456"), vec!["0071000123456"]);
        assert_eq!(accounts("VCB0071000123456"), vec!["0071000123456"]);
    }

    #[test]
    fn account_cue_after_a_non_account_cue_wins() {
        assert_eq!(
            accounts("mã đơn xong thì chuyển khoản STK 123456"),
            vec!["123456"]
        );
    }

    #[test]
    fn digits_in_links_are_not_accounts() {
        assert!(accounts("xem https://example.com/post/123456789012 nhé").is_empty());
        assert!(accounts("example.com/?stk=123456789012").is_empty());
    }

    // ------------------------------------------------------------- domains

    #[test]
    fn urls_and_bare_domains() {
        for (text, expected) in [
            ("vào https://abc.xyz/c nhé", "abc.xyz"),
            ("vào http://Example.COM", "example.com"),
            ("vào www.example.vn", "example.vn"),
            ("vào WWW.Example.Vn/abc", "example.vn"),
            ("vào example.com.vn/path?x=1", "example.com.vn"),
            ("link: sub.domain.example.org", "sub.domain.example.org"),
            ("https://example.com:8443/login", "example.com"),
            ("rút gọn bit.ly/3abcDEF", "bit.ly"),
            ("nhóm t.me/+abcdef", "t.me"),
            ("https://xn--80ak6aa92e.com/", "xn--80ak6aa92e.com"),
            ("xn--80ak6aa92e.co", "xn--80ak6aa92e.co"),
            ("www2.example.net", "example.net"),
            ("www.vn", "www.vn"),
        ] {
            assert_eq!(domains(text), vec![expected], "{text:?}");
        }
    }

    #[test]
    fn any_alphabetic_tld_with_a_url_signal() {
        assert_eq!(
            domains("https://login.example.rarelyusedtld/x"),
            vec!["login.example.rarelyusedtld"]
        );
        assert_eq!(domains("www.example.abcd"), vec!["example.abcd"]);
        assert_eq!(domains("example[.]abcd"), vec!["example.abcd"]);
        // Bare and not a common TLD: more likely a missing space after a full stop.
        assert!(domains("example.abcd").is_empty());
    }

    #[test]
    fn defanged_urls() {
        for (text, expected) in [
            ("hxxp://evil[.]com/login", "evil.com"),
            ("hxxps://evil.com", "evil.com"),
            ("hxxps[://]evil[.]site", "evil.site"),
            ("example[.]com", "example.com"),
            ("example(.)com", "example.com"),
            ("example{.}com", "example.com"),
            ("example[dot]com", "example.com"),
            ("sub[.]example[.]com[.]vn", "sub.example.com.vn"),
        ] {
            assert_eq!(domains(text), vec![expected], "{text:?}");
        }
    }

    #[test]
    fn trailing_punctuation_is_not_part_of_the_link() {
        let raw = "Xem example.com. Hoặc (https://evil.vn/a/b), hoặc “www.scam.net”!";
        let text = normalize_text(raw);
        let found = extract(raw);
        assert_eq!(
            found.iter().map(|e| e.value.as_str()).collect::<Vec<_>>(),
            vec!["example.com", "evil.vn", "scam.net"]
        );
        let written: Vec<&str> = found.iter().map(|e| &text[e.span.clone()]).collect();
        assert_eq!(
            written,
            vec!["example.com", "https://evil.vn/a/b", "www.scam.net"]
        );
    }

    #[test]
    fn file_names_are_not_domains() {
        for text in [
            "gửi file.txt",
            "ảnh anh.jpg",
            "hoadon.PDF",
            "baocao.docx",
            "tải app.apk",
            "data.zip",
            "IMG_1234.png",
        ] {
            assert!(domains(text).is_empty(), "{text:?}");
        }
        // …but the host of a link to such a file is.
        assert_eq!(domains("tải https://evil.com/app.apk"), vec!["evil.com"]);
    }

    #[test]
    fn email_addresses_are_not_domains() {
        assert!(domains("mail a@b.com nhé").is_empty());
        assert!(domains("nguyen.vn.a@company.com").is_empty());
        assert!(domains("liên hệ support.vn@gmail.com").is_empty());
        assert!(domains("nguyen.van.a@company.com.vn").is_empty());
    }

    #[test]
    fn abbreviations_and_missing_spaces_are_not_domains() {
        for text in [
            "TP.HCM",
            "v.v.",
            "Ms.Linh",
            "xong rồi.Anh gửi nhé",
            "ok.em",
            "1.5tr",
            "3.14",
            "Q.1",
            "192.168.1.1",
        ] {
            assert!(
                domains(text).is_empty(),
                "{text:?} gave {:?}",
                domains(text)
            );
        }
    }

    #[test]
    fn unicode_hosts_become_punycode() {
        // A Cyrillic 'а' homograph gets its own punycode form, so it never matches the real bank.
        let homograph = domains("https://Vietcomb\u{0410}nk.com");
        assert_eq!(homograph.len(), 1);
        assert!(homograph[0].starts_with("xn--"), "{homograph:?}");
        assert_eq!(
            domains("vào vietcombánk.com nhé"),
            vec!["xn--vietcombnk-z4a.com"]
        );
    }

    #[test]
    fn parents_down_to_the_registrable_domain() {
        assert_eq!(
            domain_and_parents("a.login.vcb-xacthuc.com.vn"),
            vec![
                "a.login.vcb-xacthuc.com.vn",
                "login.vcb-xacthuc.com.vn",
                "vcb-xacthuc.com.vn"
            ]
        );
        assert_eq!(domain_and_parents("evil.github.io"), vec!["evil.github.io"]);
        assert_eq!(domain_and_parents("example.com"), vec!["example.com"]);
    }

    #[test]
    fn vietqr_payload_gives_bank_and_account_and_hides_its_digits() {
        let qr = "00020101021238570010A00000072701270006970415011300110019324180208QRIBFTTA530370454061200005802VN62170813ung ho lu lut6304C15C";
        let found = extract(&format!("quét mã này nhé {qr}"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].kind, EntityKind::BankAccount);
        assert_eq!(found[0].value, "0011001932418");
        assert_eq!(found[0].bank_bin.as_deref(), Some("970415"));
        assert_eq!(found[0].bank_name, Some("VietinBank"));
    }

    #[test]
    fn banks_named_near_accounts_set_the_bin() {
        let found = extract("chuyển khoản vào STK 1903 6688 8888 Techcombank");
        assert_eq!(found[0].bank_bin.as_deref(), Some("970407"));
        let found = extract("ck qua vcb stk 0071000123456 nhé");
        assert_eq!(found[0].bank_bin.as_deref(), Some("970436"));
        let found = extract("momo 0987654321 chủ tk Lan");
        assert_eq!(found[0].kind, EntityKind::BankAccount);
        assert_eq!(found[0].bank_name, Some("MoMo"));
        assert_eq!(found[0].bank_bin, None);
    }

    #[test]
    fn service_numbers_are_not_accounts() {
        assert!(extract("gọi tổng đài 1900 1234 hoặc 1800 5678 để được hỗ trợ").is_empty());
    }

    #[test]
    fn host_glued_to_letters_is_ignored() {
        assert!(domains("example.comnhé").is_empty());
    }

    #[test]
    fn phone_in_a_zalo_link_is_kept() {
        let text = "zalo.me/0912345678";
        assert_eq!(domains(text), vec!["zalo.me"]);
        assert_eq!(phones(text), vec!["+84912345678"]);
        assert!(accounts(text).is_empty());
    }

    // ------------------------------------------------------- normalisation

    #[test]
    fn normalize_text_removes_invisible_chars_and_maps_fullwidth_digits() {
        assert_eq!(
            normalize_text("０９１２\u{200B}345\u{FEFF}678"),
            "0912345678"
        );
        assert_eq!(normalize_text("a\u{200C}b\u{200D}c\u{2060}d"), "abcd");
        // NFD "ố" becomes the single precomposed code point.
        assert_eq!(normalize_text("so\u{0302}\u{0301}"), "số");
    }

    #[test]
    fn obfuscated_numbers_are_found() {
        assert_eq!(phones("gọi ０９１２３４５６７８"), vec!["+84912345678"]);
        assert_eq!(
            phones("gọi 0912\u{200B}345\u{200B}678"),
            vec!["+84912345678"]
        );
        assert_eq!(
            accounts("STK 1903\u{2060}6688\u{FEFF}8888"),
            vec!["190366888888"]
        );
    }

    #[test]
    fn decomposed_cue_words_still_count() {
        // "số tài khoản" typed in NFD.
        let text = "so\u{0302}\u{0301} ta\u{0300}i khoa\u{0309}n 123456";
        assert_eq!(accounts(text), vec!["123456"]);
    }

    #[test]
    fn fold_for_matching_strips_accents() {
        assert_eq!(fold("Số Tài Khoản ĐÔNG Ðà"), "so tai khoan dong da");
    }

    // ------------------------------------------------------ dedup / order

    #[test]
    fn duplicates_are_removed_keeping_first_appearance() {
        let found = extract("gọi 0912345678, nhắc lại: +84 912 345 678. Link evil.com và EVIL.com");
        let pairs: Vec<(EntityKind, String)> =
            found.iter().map(|e| (e.kind, e.value.clone())).collect();
        assert_eq!(
            pairs,
            vec![
                entity(EntityKind::Phone, "+84912345678"),
                entity(EntityKind::Domain, "evil.com"),
            ]
        );
        assert_eq!(found[0].span, "gọi ".len().."gọi 0912345678".len());
    }

    #[test]
    fn extracted_values_are_fixed_points_of_normalize_value() {
        let text = "STK 1903 6688 8888, gọi 0912.345.678 hoặc +84 24 3825 1234, \
                    vào hxxps://WWW.Vietcombank-XacMinh[.]com/x hoặc xn--vcb-abc.vn";
        let found = extract(text);
        assert_eq!(found.len(), 5, "{found:?}");
        for entity in found {
            assert_eq!(
                crate::scam::normalize_value(entity.kind, &entity.value).as_deref(),
                Some(entity.value.as_str()),
                "{entity:?}"
            );
        }
    }

    #[test]
    fn odd_input_never_panics_and_spans_stay_on_char_boundaries() {
        let inputs = [
            "+",
            "+84",
            "(+84)",
            "0",
            "84",
            "0084",
            "..--..",
            "[.]",
            "hxxp://",
            "https://.com",
            "a.b.c.d.e.f.g",
            "👍0912345678👍",
            "ế0912345678ế",
            "0912345678\u{0301}",
            "x\u{0323}.com",
            "１２３４５６７８９０１２",
            "٠٩١٢٣٤٥٦٧٨",
            "@@@.com",
            "www.",
            "đ.vn",
            "1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2",
        ];
        for raw in inputs {
            for entity in extract(raw) {
                assert!(
                    raw.get(entity.span.clone()).is_some(),
                    "{raw:?}: {entity:?}"
                );
                assert!(!entity.value.is_empty());
            }
        }
        let long = "0912 345 678 STK 1903 6688 8888 ".repeat(500);
        assert_eq!(extract(&long).len(), 2);
    }

    #[test]
    fn plain_text_yields_nothing() {
        assert!(extract("").is_empty());
        assert!(extract("Chào bạn, hôm nay trời đẹp quá. Mình đi cafe nhé!").is_empty());
        assert!(extract("Giá 2 triệu, hẹn 10:30 ngày 12/05/2024, phòng 1203.").is_empty());
    }

    #[test]
    fn mask_never_reveals_middle_digits() {
        for entity in extract("STK 1903 6688 8888, gọi 0912.345.678") {
            let masked = entity.masked();
            assert!(!masked.contains("345"), "{masked}");
            assert!(!masked.contains("6688"), "{masked}");
        }
    }
}

#[cfg(test)]
mod runs {
    use super::numbers::number_runs;

    fn longest_digit_run(text: &str) -> usize {
        super::longest_digit_run(&number_runs(text))
    }

    #[test]
    fn longest_grouped_run() {
        assert_eq!(longest_digit_run("gọi 0912 345 678 nhé"), 10);
        assert_eq!(longest_digit_run("0912.345.678"), 10);
        assert_eq!(longest_digit_run("(+84) 912\u{A0}345-678"), 9);
        assert_eq!(longest_digit_run("giá 500k, 10:30 ngày 12/05"), 3);
        assert_eq!(longest_digit_run("1  2"), 1, "a double space ends a run");
        assert_eq!(longest_digit_run(""), 0);
    }
}

#[cfg(test)]
mod memo {
    use super::*;

    #[test]
    fn memoised_validity_matches_libphonenumber() {
        // Every 3-digit prefix, with varied tails: validity must depend on the prefix only.
        for len in [9usize, 10] {
            for prefix in 0..1000 {
                let digits = format!("{prefix:03}");
                let shape_ok = if len == 9 {
                    mobile_carrier(&digits).is_some()
                } else {
                    digits.starts_with('2')
                };
                if !shape_ok {
                    continue; // never asked: the shape check rejects it first
                }
                let answers: Vec<bool> = ["0000000", "5555555", "9876543"]
                    .iter()
                    .map(|tail| format!("{prefix:03}{tail}")[..len].to_string())
                    .map(|n| libphonenumber_valid_uncached(&n))
                    .collect();
                assert!(
                    answers.iter().all(|a| *a == answers[0]),
                    "validity of {prefix:03}… (length {len}) depends on more than the prefix"
                );
            }
        }
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Text built from the pieces the extractor reacts to, so random inputs reach deep into it.
    fn chatty_text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            "[0-9]{1,12}",
            Just(" ".to_string()),
            Just(".".to_string()),
            Just("-".to_string()),
            Just("+84".to_string()),
            Just("(+84)".to_string()),
            Just("[.]".to_string()),
            Just("hxxps://".to_string()),
            Just("STK ".to_string()),
            Just("chuyển khoản ".to_string()),
            Just("Vietcombank".to_string()),
            Just(".com".to_string()),
            Just("000201".to_string()),
            Just("\u{200B}".to_string()),
            Just("\u{0301}".to_string()),
            Just("１２".to_string()),
            Just("đ".to_string()),
            "[a-zA-Zà-ỹ]{1,8}",
            any::<char>().prop_map(|c| c.to_string()),
        ];
        proptest::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
    }

    /// Text built from the pieces links are made of.
    fn linky_text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            "[a-z0-9]{1,6}",
            "[A-Zà-ỹ\u{0300}-\u{0303}]{1,3}",
            Just(".".to_string()),
            Just("-".to_string()),
            Just("[.]".to_string()),
            Just("(dot)".to_string()),
            Just("[DoT]".to_string()),
            Just("{.}".to_string()),
            Just("hxxps://".to_string()),
            Just("HTTP[://]".to_string()),
            Just("ftp[:]//".to_string()),
            Just("www.".to_string()),
            Just("xn--".to_string()),
            Just(".com".to_string()),
            Just(".vn".to_string()),
            Just(":8080".to_string()),
            Just("/a?b=1#c".to_string()),
            Just("@".to_string()),
            Just("\u{212A}".to_string()),
            Just("\u{17F}".to_string()),
            Just(" ".to_string()),
            Just("\u{3000}".to_string()),
            Just("\n".to_string()),
            Just("\"".to_string()),
            any::<char>().prop_map(|c| c.to_string()),
        ];
        proptest::collection::vec(piece, 0..30).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        #[test]
        fn never_panics_and_spans_stay_inside_the_text(text in chatty_text()) {
            for entity in extract(&text) {
                prop_assert!(entity.span.start < entity.span.end, "{entity:?}");
                prop_assert_eq!(text.get(entity.span.clone()), Some(entity.raw.as_str()));
                prop_assert!(!entity.value.is_empty());
            }
        }

        #[test]
        fn domain_matches_are_those_of_a_whole_text_capture_search(text in linky_text()) {
            let expected: Vec<DomainMatch> = DOMAIN_RE
                .captures_iter(&text)
                .map(|caps| DomainMatch {
                    whole: caps.get_match().range(),
                    host: caps.name("host").unwrap().range(),
                    tld: caps.name("tld").unwrap().range(),
                    has_scheme: caps.name("scheme").is_some(),
                })
                .collect();
            prop_assert_eq!(domain_matches(&text), expected);
        }

        #[test]
        fn arbitrary_unicode_never_panics(text in any::<String>()) {
            for entity in extract(&text) {
                prop_assert_eq!(text.get(entity.span.clone()), Some(entity.raw.as_str()));
            }
        }
    }
}
