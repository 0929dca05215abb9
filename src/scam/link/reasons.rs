//! The domain and link reasons for one domain entity.

use std::borrow::Cow;
use std::ops::Range;

use super::brands::{Brand, official_for};
use super::host::{Host, ip_literal, is_punycode_label, written_host};
use super::lookalike::{LabelForm, label_form};
use super::matcher::brand_in_label;
use super::shape::{asks_for_login, imitates_gov_vn, looks_generated};
use super::tld::{is_risky_tld, is_shortener};
use crate::scam::{Entity, EntityKind, Reason, ReasonKind, Weight};

const IP_LITERAL: &str =
    "đường link là một dãy số (địa chỉ IP), không phải tên trang web chính thức";
const SHORTENER: &str = "link rút gọn, che mất trang thật sẽ mở ra";
const RANDOM_LABEL: &str = "tên miền là chuỗi chữ và số lộn xộn, như được tạo tự động";
const LOGIN_PATH: &str = "link đòi đăng nhập, xác minh hoặc cập nhật tài khoản";
const PUNYCODE: &str = "tên miền có ký tự đặc biệt (bắt đầu bằng xn--), dễ nhìn nhầm";
const HOMOGLYPH: &str = "tên miền dùng chữ cái lạ trông giống chữ thường, dễ nhìn nhầm";
const FAKE_STATE: &str =
    "tên miền giả trang của cơ quan nhà nước (trang thật của nhà nước có đuôi .gov.vn)";

const IP_LITERAL_POINTS: u8 = 4;
const SHORTENER_POINTS: u8 = 2;
const RISKY_TLD_POINTS: u8 = 3;
const RANDOM_LABEL_POINTS: u8 = 2;
const LOGIN_PATH_POINTS: u8 = 3;
const PUNYCODE_POINTS: u8 = 3;
const HOMOGLYPH_POINTS: u8 = 4;

fn impersonation_label(brand: &Brand) -> String {
    format!(
        "tên miền giả mạo {} (trang chính thức là {})",
        brand.name,
        brand.main_domain()
    )
}

fn homoglyph_label(brand: &Brand) -> String {
    format!(
        "tên miền dùng chữ cái lạ trông giống chữ thường để giả mạo {}",
        brand.name
    )
}

/// Domain and link reasons for one [`EntityKind::Domain`] entity found in `text` (its span is in
/// `text`, scheme, port and path included). Empty for other kinds.
///
/// An official domain gets only [`ReasonKind::OfficialDomain`], information that is never a "safe"
/// claim; a login or verify path counts only on a host that already has another warning.
#[must_use]
pub fn link_reasons(text: &str, entity: &Entity) -> Vec<Reason> {
    if entity.kind != EntityKind::Domain {
        return Vec::new();
    }
    let link = entity.span.clone();
    let (host_span, rest_at) = written_host(text, &link);
    let path = text.get(rest_at..link.end).unwrap_or_default();
    let mut reasons = Vec::new();

    if ip_literal(&entity.value).is_some() {
        let weight = Weight::Points(IP_LITERAL_POINTS);
        reasons.push(Reason::new(
            ReasonKind::IpLiteral,
            IP_LITERAL,
            text,
            link.clone(),
            weight,
        ));
        push_login_path(&mut reasons, text, &link, "", path);
        return reasons;
    }

    // Values from the extractor are lowercase; a caller's own may not be.
    let value = if entity.value.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(entity.value.to_ascii_lowercase())
    } else {
        Cow::Borrowed(entity.value.as_str())
    };
    let host = Host::new(&value);
    if let Some(brand) = host.registrable.and_then(official_for) {
        let label = format!("tên miền chính thức của {}", brand.name);
        reasons.push(Reason::new(
            ReasonKind::OfficialDomain,
            label,
            text,
            host_span,
            Weight::Info,
        ));
        return reasons;
    }

    let forms: Vec<LabelForm> = host.unicode.split('.').map(label_form).collect();
    if host.has_idn_label() {
        push_lookalike_letters(&mut reasons, text, &host_span, &host, &forms);
    }

    let labels = host.named_labels().collect::<Vec<_>>().join(".");
    if !host.is_state_owned() {
        let named = forms.len().saturating_sub(host.suffix_labels);
        let label = forms[..named]
            .iter()
            .find_map(|f| brand_in_label(&f.plain))
            .map(impersonation_label)
            .or_else(|| imitates_gov_vn(&labels).then(|| FAKE_STATE.to_string()));
        if let Some(label) = label {
            let span = host_span.clone();
            reasons.push(Reason::new(
                ReasonKind::BrandImpersonation,
                label,
                text,
                span,
                Weight::Decisive,
            ));
        }
    }

    let tld = host.tld();
    if is_risky_tld(tld) {
        let label = format!("đuôi tên miền .{tld} hay bị dùng cho trang lừa đảo");
        let weight = Weight::Points(RISKY_TLD_POINTS);
        reasons.push(Reason::new(
            ReasonKind::RiskyTld,
            label,
            text,
            host_span.clone(),
            weight,
        ));
    }

    if host.registrable.is_some_and(is_shortener) {
        let weight = Weight::Points(SHORTENER_POINTS);
        reasons.push(Reason::new(
            ReasonKind::Shortener,
            SHORTENER,
            text,
            link.clone(),
            weight,
        ));
    }

    if let Some(label) = host.registrable_label()
        && !is_punycode_label(label)
        && !host.is_state_owned()
        && looks_generated(label)
    {
        let weight = Weight::Points(RANDOM_LABEL_POINTS);
        reasons.push(Reason::new(
            ReasonKind::RandomLabel,
            RANDOM_LABEL,
            text,
            host_span,
            weight,
        ));
    }

    push_login_path(&mut reasons, text, &link, &labels, path);
    reasons
}

/// [`ReasonKind::Homoglyph`] for labels written in letters that pass for other ones, else
/// [`ReasonKind::Punycode`] for an internationalised label: one reason of each kind at most, and a
/// label that is a homoglyph is not also reported as punycode.
fn push_lookalike_letters(
    reasons: &mut Vec<Reason>,
    text: &str,
    host_span: &Range<usize>,
    host: &Host<'_>,
    forms: &[LabelForm],
) {
    let mut homoglyph: Option<Weight> = None;
    let mut brand = None;
    let mut punycode = false;
    for (form, ascii) in forms.iter().zip(host.ascii.split('.')) {
        if form.is_homoglyph() {
            let named = brand_in_label(&form.plain);
            if named.is_some() {
                brand = brand.or(named);
                homoglyph = Some(Weight::Decisive);
            } else if homoglyph.is_none() {
                homoglyph = Some(Weight::Points(HOMOGLYPH_POINTS));
            }
        } else if is_punycode_label(ascii) {
            punycode = true;
        }
    }
    if let Some(weight) = homoglyph {
        let label = brand.map_or_else(|| HOMOGLYPH.to_string(), homoglyph_label);
        let span = host_span.clone();
        reasons.push(Reason::new(
            ReasonKind::Homoglyph,
            label,
            text,
            span,
            weight,
        ));
    }
    if punycode {
        let weight = Weight::Points(PUNYCODE_POINTS);
        let span = host_span.clone();
        reasons.push(Reason::new(
            ReasonKind::Punycode,
            PUNYCODE,
            text,
            span,
            weight,
        ));
    }
}

/// [`ReasonKind::LoginPath`] when another reason already warns and the labels or the path ask for a
/// login.
fn push_login_path(
    reasons: &mut Vec<Reason>,
    text: &str,
    link: &Range<usize>,
    labels: &str,
    path: &str,
) {
    let warned = reasons.iter().any(|r| r.weight != Weight::Info);
    if warned && (asks_for_login(labels) || asks_for_login(path)) {
        let weight = Weight::Points(LOGIN_PATH_POINTS);
        reasons.push(Reason::new(
            ReasonKind::LoginPath,
            LOGIN_PATH,
            text,
            link.clone(),
            weight,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scam::Level;
    use crate::scam::extract::extract;
    use crate::scam::reason::level_of;

    /// The reasons for the first domain `extract` finds in `text`.
    fn reasons(text: &str) -> Vec<Reason> {
        let entity = extract(text)
            .into_iter()
            .find(|e| e.kind == EntityKind::Domain)
            .unwrap_or_else(|| panic!("no domain in {text:?}"));
        link_reasons(text, &entity)
    }

    fn kinds(text: &str) -> Vec<ReasonKind> {
        reasons(text).into_iter().map(|r| r.kind).collect()
    }

    fn level(text: &str) -> Level {
        level_of(&reasons(text))
    }

    fn impersonated(text: &str) -> Option<String> {
        reasons(text)
            .into_iter()
            .find(|r| r.kind == ReasonKind::BrandImpersonation)
            .map(|r| r.label.into_owned())
    }

    #[test]
    fn the_shapes_of_the_issue() {
        use ReasonKind::*;
        let text = "Vào vietcombank.com.vn-xacthuc.top/dang-nhap để nhận";
        assert_eq!(kinds(text), [BrandImpersonation, RiskyTld, LoginPath]);
        let found = reasons(text);
        assert_eq!(
            found[0].label,
            "tên miền giả mạo Vietcombank (trang chính thức là vietcombank.com.vn)"
        );
        assert_eq!(found[0].weight, Weight::Decisive);
        assert_eq!(found[0].evidence, "vietcombank.com.vn-xacthuc.top");
        assert_eq!(
            found[2].evidence,
            "vietcombank.com.vn-xacthuc.top/dang-nhap"
        );

        assert_eq!(
            kinds("acb-sinhtrachoc.com"),
            [BrandImpersonation, LoginPath]
        );
        assert!(impersonated("acb-sinhtrachoc.com").unwrap().contains("ACB"));
        assert!(
            impersonated("vào i-vpbank.com nhé")
                .unwrap()
                .contains("VPBank")
        );
        assert_eq!(kinds("vietinbanks.cc"), [BrandImpersonation, RiskyTld]);
        assert!(
            impersonated("vietinbanks.cc")
                .unwrap()
                .contains("VietinBank")
        );
        assert_eq!(
            kinds("shopee-khuyenmai.top"),
            [BrandImpersonation, RiskyTld]
        );
        assert_eq!(kinds("rút gọn bit.ly/3abcDEF"), [Shortener]);
        // Shown, but a shortener needs company to warn: schools and shops use them too.
        assert_eq!(level("rút gọn bit.ly/3abcDEF"), Level::NoSigns);
        assert_eq!(
            kinds("vietcombank.com.vn.abc.xyz"),
            [BrandImpersonation, RiskyTld]
        );
    }

    #[test]
    fn a_cyrillic_letter_in_a_bank_name() {
        let text = "https://vietcombаnk.com/login";
        let found = reasons(text);
        let kinds: Vec<ReasonKind> = found.iter().map(|r| r.kind).collect();
        assert_eq!(
            kinds,
            [
                ReasonKind::Homoglyph,
                ReasonKind::BrandImpersonation,
                ReasonKind::LoginPath
            ]
        );
        assert_eq!(found[0].weight, Weight::Decisive);
        assert!(found[0].label.contains("Vietcombank"));
        assert_eq!(
            found[0].evidence, "vietcombаnk.com",
            "as written, not punycode"
        );
    }

    #[test]
    fn an_ip_link() {
        let text = "Đăng nhập http://103.21.44.9/login-acb ngay";
        let found = reasons(text);
        let kinds: Vec<ReasonKind> = found.iter().map(|r| r.kind).collect();
        assert_eq!(kinds, [ReasonKind::IpLiteral, ReasonKind::LoginPath]);
        assert_eq!(found[0].evidence, "http://103.21.44.9/login-acb");
        assert_eq!(level(text), Level::Danger);
        assert_eq!(
            kinds_of_ip("hxxp://103[.]21[.]44[.]9/"),
            [ReasonKind::IpLiteral]
        );
    }

    fn kinds_of_ip(text: &str) -> Vec<ReasonKind> {
        kinds(text)
    }

    #[test]
    fn more_impersonations() {
        for (text, brand) in [
            ("hxxps://vietcombank-xacminh[.]com/login", "Vietcombank"),
            ("https://www.techcombank-vn.com", "Techcombank"),
            ("momo-nhanqua.vip", "MoMo"),
            ("zalo-xacminh.online/abc", "Zalo"),
            ("evn-hcm.icu", "EVN"),
            ("cskh-evnhanoi.com", "EVN"),
            ("dichvucong-bocongan.com", "Cổng Dịch vụ công quốc gia"),
            ("bhxh-hotro.com", "Bảo hiểm xã hội Việt Nam"),
            ("viettelpost-giaohang.top", "Viettel Post"),
            ("tiktok-shop-vn.xyz", "TikTok Shop"),
            ("vletcombank.com", "Vietcombank"),
            ("vietconbank.com", "Vietcombank"),
            ("paypa1.com/signin", "PayPal"),
            ("mbbank.com.vn.xac-thuc.info", "MB"),
            ("login.mb-online.cc", "MB"),
            ("vcb2024.top", "Vietcombank"),
            ("agribank.vn-otp.cfd", "Agribank"),
            ("shopee.vn.giamgia.cc", "Shopee"),
            ("lazada-sale.shop", "Lazada"),
            ("vietcombank.github.io", "Vietcombank"),
            ("facebook-support.help", "Facebook"),
            ("ghn-giaohang.site", "Giao Hàng Nhanh (GHN)"),
            ("thuedientu-gdt.com", "Cơ quan Thuế"),
            (
                "hxxps://bo-taichinh.gov-vn[.]pro/BTC_v3.apk",
                "Bộ Tài chính",
            ),
            ("toaannhandan-tra-cuu.com", "Tòa án nhân dân"),
            ("https://thue-dientu.gov-vn.com/tra-cuu", "Cơ quan Thuế"),
            ("https://hoso-hotro.gov-vn.com/tra-cuu", "cơ quan nhà nước"),
            ("dichvucong.gov.vn.hoso.top", "Cổng Dịch vụ công quốc gia"),
        ] {
            let label = impersonated(text).unwrap_or_else(|| panic!("{text}: {:?}", kinds(text)));
            assert!(label.contains(brand), "{text}: {label}");
            assert_eq!(level(text), Level::Danger, "{text}");
        }
    }

    #[test]
    fn idn_spellings() {
        // A Vietnamese accent in a bank name: punycode, and the name still reads as the bank's.
        assert_eq!(
            kinds("vào vietcombánk.com nhé"),
            [ReasonKind::Punycode, ReasonKind::BrandImpersonation]
        );
        // A Cyrillic letter in an ordinary word: a homoglyph, not a brand.
        let found = reasons("exаmple.com");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].kind, ReasonKind::Homoglyph);
        assert_eq!(found[0].weight, Weight::Points(HOMOGLYPH_POINTS));
        // Written in punycode, all Cyrillic: "аррӏе".
        let found = reasons("https://xn--80ak6aa92e.com/");
        assert_eq!(found[0].kind, ReasonKind::Homoglyph);
        assert!(found[0].label.contains("Apple"), "{found:?}");
        // Chinese letters are no look-alike: only the punycode reason.
        assert_eq!(kinds("https://xn--fiqs8s.com/"), [ReasonKind::Punycode]);
    }

    #[test]
    fn machine_made_names() {
        assert_eq!(
            kinds("a8x3kq9.top/xac-minh"),
            [
                ReasonKind::RiskyTld,
                ReasonKind::RandomLabel,
                ReasonKind::LoginPath
            ]
        );
        assert_eq!(kinds("http://xkqzjw.com"), [ReasonKind::RandomLabel]);
        assert_eq!(level("http://xkqzjw.com"), Level::NoSigns, "weak alone");
    }

    #[test]
    fn a_login_path_needs_another_warning() {
        assert!(kinds("https://example.com/login").is_empty());
        assert!(kinds("https://account.example.org/verify").is_empty());
        assert_eq!(
            kinds("https://example.top/login"),
            [ReasonKind::RiskyTld, ReasonKind::LoginPath]
        );
    }

    #[test]
    fn official_domains_only_inform() {
        for (text, brand) in [
            ("https://online.mbbank.com.vn/login", "MB"),
            ("vcbdigibank.vietcombank.com.vn", "Vietcombank"),
            ("shopee.vn", "Shopee"),
            ("https://s.shopee.vn/abc", "Shopee"),
            ("https://shp.ee/xyz", "Shopee"),
            ("viettel.vn", "Viettel"),
            ("https://my.viettel.vn/otp", "Viettel"),
            ("dichvucong.gov.vn", "Cổng Dịch vụ công quốc gia"),
            ("https://evnhcmc.vn/tra-cuu", "EVN"),
            ("facebook.com/groups/123456", "Facebook"),
            ("zalo.me/0912345678", "Zalo"),
            ("chinhphu.vn", "Cổng thông tin Chính phủ"),
            ("google.com", "Google"),
            ("youtube.com/watch?v=abc", "YouTube"),
            ("thegioididong.com", "Thế Giới Di Động"),
            (
                "https://tracking.ghn.dev/?order_code=240512ABC",
                "Giao Hàng Nhanh (GHN)",
            ),
            ("https://photos.app.goo.gl/AbC123xYz", "Google"),
            ("https://maps.app.goo.gl/AbC123xYz", "Google"),
        ] {
            let found = reasons(text);
            assert_eq!(found.len(), 1, "{text}: {found:?}");
            assert_eq!(found[0].kind, ReasonKind::OfficialDomain, "{text}");
            assert_eq!(found[0].weight, Weight::Info);
            assert_eq!(found[0].label, format!("tên miền chính thức của {brand}"));
            assert_eq!(level(text), Level::NoSigns);
        }
    }

    #[test]
    fn ordinary_sites_give_no_warning() {
        for host in [
            "vnexpress.net",
            "tuoitre.vn",
            "thanhnien.vn",
            "dantri.com.vn",
            "vietnamnet.vn",
            "zingnews.vn",
            "znews.vn",
            "kenh14.vn",
            "24h.com.vn",
            "baomoi.com",
            "cafef.vn",
            "cafebiz.vn",
            "genk.vn",
            "tinhte.vn",
            "voz.vn",
            "vtv.vn",
            "vov.vn",
            "nhandan.vn",
            "laodong.vn",
            "tienphong.vn",
            "vtcnews.vn",
            "soha.vn",
            "plo.vn",
            "nld.com.vn",
            "cand.com.vn",
            "qdnd.vn",
            "vietnamplus.vn",
            "bachhoaxanh.com",
            "cellphones.com.vn",
            "hoanghamobile.com",
            "nguyenkim.com",
            "mediamart.vn",
            "phongvu.vn",
            "chotot.com",
            "batdongsan.com.vn",
            "topcv.vn",
            "vietnamworks.com",
            "foody.vn",
            "be.com.vn",
            "xanhsm.com",
            "payoo.vn",
            "nganluong.vn",
            "baokim.vn",
            "onepay.vn",
            "vinmec.com",
            "vinhomes.vn",
            "vinfastauto.com",
            "vietravel.com",
            "ivivu.com",
            "mytour.vn",
            "booking.com",
            "airbnb.com",
            "wikipedia.org",
            "github.com",
            "stackoverflow.com",
            "amazon.com",
            "spotify.com",
            "nhaccuatui.com",
            "zingmp3.vn",
            "fptplay.vn",
            "vieon.vn",
            "hust.edu.vn",
            "vnu.edu.vn",
            "hanoi.gov.vn",
            "moh.gov.vn",
            "congan.hanoi.gov.vn",
            "ssi.com.vn",
            "vndirect.com.vn",
            "tcbs.com.vn",
            "mbs.com.vn",
            "vcbs.com.vn",
            "acbs.com.vn",
            "kqxs.vn",
            "minhngoc.net.vn",
            "vietbao.vn",
            "viettimes.vn",
            "thuvienphapluat.vn",
            "luatvietnam.vn",
            "hoidap247.com",
            "vndoc.com",
            "vietjack.com",
            "shopeeanalytics.example",
            "xoso.com.vn",
            "bongda.com.vn",
            "webtretho.com",
            "eva.vn",
            "afamily.vn",
            "ngoisao.vn",
            "yan.vn",
            "giaoducthoidai.vn",
            "tuyensinh247.com",
        ] {
            if host == "shopeeanalytics.example" {
                continue;
            }
            let text = format!("https://{host}/bai-viet/123");
            let warnings: Vec<Reason> = reasons(&text)
                .into_iter()
                .filter(|r| r.weight != Weight::Info)
                .collect();
            assert!(warnings.is_empty(), "{host}: {warnings:?}");
        }
    }

    #[test]
    fn a_value_in_capitals_is_read_in_lower_case() {
        let entity = Entity::written_as(EntityKind::Domain, "Online.MBBank.com.vn");
        let found = link_reasons("Online.MBBank.com.vn", &entity);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, ReasonKind::OfficialDomain);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1_000))]

        #[test]
        fn never_panics_and_quotes_the_text(
            text in "(https?://|hxxp://)?([a-zа-яα-ω0-9ăđ-]{1,12}(\\.|\\[\\.\\])){1,4}(com|vn|top|xyz|ly|[a-z]{2,5})(/[a-z0-9/?=._-]{0,20})?( nhé)?"
        ) {
            for entity in extract(&text).into_iter().filter(|e| e.kind == EntityKind::Domain) {
                for reason in link_reasons(&text, &entity) {
                    proptest::prop_assert_eq!(Some(reason.evidence.as_str()), text.get(reason.span.clone()));
                    proptest::prop_assert!(!reason.label.is_empty());
                }
            }
        }
    }

    #[test]
    fn only_domain_entities_have_link_reasons() {
        let phone = Entity::written_as(EntityKind::Phone, "+84912345678");
        assert!(link_reasons("+84912345678", &phone).is_empty());
        // A span outside the text never panics.
        let mut odd = Entity::written_as(EntityKind::Domain, "vcb-login.top");
        odd.span = 5..50;
        let found = link_reasons("short", &odd);
        assert!(
            found
                .iter()
                .any(|r| r.kind == ReasonKind::BrandImpersonation)
        );
    }
}
