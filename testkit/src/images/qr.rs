//! A generated QR test set: real-shaped payloads (VietQR transfers with a valid CRC, https links, plain
//! Vietnamese text) drawn with the `qrcode` crate and shown the ways users send them: clean, rotated,
//! tiny inside a phone screenshot, filling it, blurred, JPEG-compressed, washed out, two in one picture,
//! and photographed (perspective, rotation, blur, uneven light, noise, JPEG together).

use image::{GrayImage, Luma};
use qrcode::{Color, QrCode};

use super::Rng;
use super::distort;

/// Modules of white around a code, as the standard asks.
pub const QUIET_ZONE: u32 = 4;
/// Samples per variation in [`qr_set`].
pub const PER_VARIATION: usize = 10;
/// A phone screenshot's size.
pub const SCREEN: (u32, u32) = (1080, 2400);

/// How a sample was distorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Variation {
    /// Straight, sharp, 3–7 px a module.
    Plain,
    /// Turned by ±5° to ±25°, 4–5 px a module.
    Rotated,
    /// 120–160 px wide (quiet zone included) inside a 1080×2400 screenshot: 2–4 px a module.
    Small,
    /// 900–1040 px inside a screenshot, or 1500–1900 px alone.
    Large,
    /// Gaussian blur of sigma 1 to 2.5 on 4–7 px modules.
    Blurred,
    /// A screenshot holding a 200–500 px code, saved as JPEG at quality 40–70.
    Jpeg,
    /// Dark and light 60–80 levels apart, with noise: alone, or inside a crisp screenshot.
    LowContrast,
    /// Two different codes in a screenshot: stacked, or side by side with the left one a little higher.
    TwoCodes,
    /// A phone photo of a printed or on-screen code: perspective, a turn of 5–25°, uneven light, blur of
    /// sigma 1–2.5, noise and JPEG at quality 55–70, at once.
    Photo,
}

impl Variation {
    pub const ALL: [Variation; 9] = [
        Variation::Plain,
        Variation::Rotated,
        Variation::Small,
        Variation::Large,
        Variation::Blurred,
        Variation::Jpeg,
        Variation::LowContrast,
        Variation::TwoCodes,
        Variation::Photo,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Variation::Plain => "plain",
            Variation::Rotated => "rotated",
            Variation::Small => "small_in_screenshot",
            Variation::Large => "large",
            Variation::Blurred => "blurred",
            Variation::Jpeg => "jpeg",
            Variation::LowContrast => "low_contrast",
            Variation::TwoCodes => "two_codes",
            Variation::Photo => "photo",
        }
    }
}

/// One generated picture and what it holds.
#[derive(Debug, Clone)]
pub struct QrSample {
    pub variation: Variation,
    /// The distortion's parameters, e.g. `rotated -15°`.
    pub detail: String,
    /// The payloads, top to bottom.
    pub payloads: Vec<String>,
    pub image: GrayImage,
}

/// The whole set: [`PER_VARIATION`] samples of every [`Variation`], the same for the same seed.
pub fn qr_set(seed: u64) -> Vec<QrSample> {
    let mut rng = Rng::new(seed);
    let mut samples = Vec::new();
    for variation in Variation::ALL {
        for i in 0..PER_VARIATION {
            samples.push(sample(variation, i, &mut rng));
        }
    }
    samples
}

/// A 1080×2400 chat screenshot holding one VietQR code 600 px wide, as a banking app shows it.
pub fn phone_screenshot_with_qr(seed: u64) -> QrSample {
    let mut rng = Rng::new(seed);
    let payload = vietqr_payload(&mut rng);
    let mut image = chat_screenshot(SCREEN.0, SCREEN.1, &mut rng);
    distort::paste(&mut image, &code_image(&payload, 600, 0, 255), 240, 900);
    QrSample {
        variation: Variation::Large,
        detail: "600 px in a 1080×2400 screenshot".into(),
        payloads: vec![payload],
        image,
    }
}

/// A 1080×2400 chat screenshot with no code.
pub fn phone_screenshot(seed: u64) -> GrayImage {
    chat_screenshot(SCREEN.0, SCREEN.1, &mut Rng::new(seed))
}

fn sample(variation: Variation, i: usize, rng: &mut Rng) -> QrSample {
    let payload = payload(i, rng);
    let (detail, payloads, image) = match variation {
        Variation::Plain => {
            let module = 3 + (i as u32 % 5);
            let code = code_modules(&payload, module, 0, 255);
            (
                format!("{module} px a module"),
                vec![payload],
                on_canvas(&code, 40, 255),
            )
        }
        Variation::Rotated => {
            let degrees = [
                5.0, -7.0, 10.0, -12.0, 15.0, -18.0, 20.0, -22.0, 25.0, -25.0,
            ][i % 10];
            let code = code_modules(&payload, 4 + (i as u32 % 2), 0, 255);
            let margin = code.width() / 4;
            let turned = distort::rotate(&on_canvas(&code, margin, 255), degrees, 255);
            (format!("rotated {degrees}°"), vec![payload], turned)
        }
        Variation::Small => {
            let side = rng.int(120, 160);
            let mut image = chat_screenshot(SCREEN.0, SCREEN.1, rng);
            let (x, y) = (rng.int(40, SCREEN.0 - side - 40), rng.int(250, 2100));
            distort::paste(&mut image, &code_image(&payload, side, 0, 255), x, y);
            (format!("{side} px in 1080×2400"), vec![payload], image)
        }
        Variation::Large => {
            if i.is_multiple_of(2) {
                let side = rng.int(900, 1040);
                let mut image = chat_screenshot(SCREEN.0, SCREEN.1, rng);
                let (x, y) = ((SCREEN.0 - side) / 2, rng.int(250, 1300));
                distort::paste(&mut image, &code_image(&payload, side, 0, 255), x, y);
                (format!("{side} px in 1080×2400"), vec![payload], image)
            } else {
                let side = rng.int(1500, 1900);
                let code = code_image(&payload, side, 0, 255);
                (
                    format!("{side} px alone"),
                    vec![payload],
                    on_canvas(&code, 50, 255),
                )
            }
        }
        Variation::Blurred => {
            let sigma = [1.0, 1.2, 1.4, 1.6, 1.8, 2.0, 2.2, 2.3, 2.4, 2.5][i % 10];
            let module = 4 + (i as u32 % 4);
            let code = on_canvas(&code_modules(&payload, module, 0, 255), 30, 255);
            let blurred = distort::blur(&code, sigma);
            (
                format!("sigma {sigma}, {module} px a module"),
                vec![payload],
                blurred,
            )
        }
        Variation::Jpeg => {
            let quality = [40, 43, 46, 50, 53, 56, 60, 63, 66, 70][i % 10];
            let side = rng.int(200, 500);
            let mut image = chat_screenshot(SCREEN.0, SCREEN.1, rng);
            let (x, y) = (rng.int(40, SCREEN.0 - side - 40), rng.int(250, 1800));
            distort::paste(&mut image, &code_image(&payload, side, 0, 255), x, y);
            let detail = format!("quality {quality}, {side} px in 1080×2400");
            (detail, vec![payload], distort::jpeg(&image, quality))
        }
        Variation::LowContrast => {
            let (dark, light) = [
                (90, 170),
                (100, 160),
                (60, 130),
                (120, 200),
                (140, 210),
                (80, 140),
                (150, 225),
                (110, 170),
                (70, 135),
                (130, 195),
            ][i % 10];
            let code = on_canvas(&code_modules(&payload, 5, 0, 255), 30, 255);
            let washed = distort::noise(&distort::contrast(&code, dark, light), 6.0, rng);
            if i.is_multiple_of(2) {
                (format!("dark {dark}, light {light}"), vec![payload], washed)
            } else {
                // A faded code in an otherwise crisp screenshot: the picture's own levels span black to white.
                let mut image = chat_screenshot(SCREEN.0, SCREEN.1, rng);
                let y = rng.int(250, SCREEN.1 - washed.height() - 200);
                distort::paste(&mut image, &washed, (SCREEN.0 - washed.width()) / 2, y);
                let detail = format!("dark {dark}, light {light}, in 1080×2400");
                (detail, vec![payload], image)
            }
        }
        Variation::TwoCodes => two_codes(i, payload, rng),
        Variation::Photo => photo(payload, rng),
    };
    QrSample {
        variation,
        detail,
        payloads,
        image,
    }
}

/// Two codes with different payloads: stacked in a screenshot, or side by side at slightly different
/// heights (the higher one is read first).
fn two_codes(i: usize, first: String, rng: &mut Rng) -> (String, Vec<String>, GrayImage) {
    let second = payload(i + 1, rng);
    let mut image = chat_screenshot(SCREEN.0, SCREEN.1, rng);
    let (a, b) = (rng.int(300, 420), rng.int(300, 420));
    let (pos_a, pos_b, detail) = if i.is_multiple_of(2) {
        let ya = rng.int(250, 700);
        let yb = ya + a + rng.int(60, 500);
        ((rng.int(40, 600), ya), (rng.int(40, 600), yb), "stacked")
    } else {
        let ya = rng.int(300, 1200);
        let yb = ya + rng.int(30, 200);
        ((40, ya), (SCREEN.0 - b - 40, yb), "side by side")
    };
    distort::paste(&mut image, &code_image(&first, a, 0, 255), pos_a.0, pos_a.1);
    distort::paste(
        &mut image,
        &code_image(&second, b, 0, 255),
        pos_b.0,
        pos_b.1,
    );
    (
        format!("{detail}, {a} and {b} px"),
        vec![first, second],
        image,
    )
}

/// A phone photo of a printed or on-screen code: perspective, a small turn, light falling off to one
/// side, focus blur, sensor noise and the camera's JPEG.
fn photo(payload: String, rng: &mut Rng) -> (String, Vec<String>, GrayImage) {
    let paper = 235;
    let side = rng.int(480, 640);
    let mut image = GrayImage::from_pixel(1000, 1300, Luma([paper]));
    let code = code_image(&payload, side, 20, paper);
    distort::paste(
        &mut image,
        &code,
        (1000 - side) / 2,
        rng.int(200, 1300 - side - 200),
    );
    let image = distort::perspective(&image, 0.05, paper, rng);
    let sign = if rng.coin() { 1.0 } else { -1.0 };
    let degrees = sign * rng.range(5.0, 25.0).round();
    let image = distort::rotate(&image, degrees, paper);
    let (left, right) = if rng.coin() { (1.0, 0.7) } else { (0.7, 1.0) };
    let image = distort::uneven_light(&image, left, right);
    let sigma = (rng.range(1.0, 2.5) * 10.0).round() / 10.0;
    let image = distort::noise(&distort::blur(&image, sigma), 10.0, rng);
    let quality = rng.int(55, 70) as u8;
    let detail = format!("{degrees}°, sigma {sigma}, quality {quality}, {side} px");
    (detail, vec![payload], distort::jpeg(&image, quality))
}

/// The `i`-th payload: VietQR, link and text in turn.
fn payload(i: usize, rng: &mut Rng) -> String {
    match i % 3 {
        0 => vietqr_payload(rng),
        1 => url_payload(rng),
        _ => rng.pick(TEXTS).to_string(),
    }
}

/// Bank BINs of the NAPAS directory.
const BINS: &[&str] = &[
    "970436", "970415", "970418", "970422", "970407", "970416", "970432", "970423",
];
const PURPOSES: &[&str] = &[
    "chuyen tien coc",
    "thanh toan don hang",
    "CK HD 20261207",
    "ung ho lu lut",
    "phi xac minh tai khoan",
];
const HOSTS: &[&str] = &[
    "vietcombank-xacthuc.com",
    "bit.ly",
    "zalo.me",
    "shopee.vn",
    "dichvucong-gov.vn",
    "tiki.vn",
    "nhan-qua-tri-an.top",
];
const TEXTS: &[&str] = &[
    "Chuyển khoản cho chị Lan 5.000.000đ tiền cọc nhà",
    "Liên hệ anh Hùng 0912 345 678 để nhận quà tri ân",
    "Mã giảm giá TẾT2026, áp dụng đến hết tháng Giêng",
    "Con đang ở bệnh viện, mẹ chuyển gấp giúp con",
    "Quét mã để nhận hỗ trợ từ Bảo hiểm xã hội Việt Nam",
    "Wifi quán: Cà phê Đà Lạt, mật khẩu cafedalat2026",
];

fn vietqr_payload(rng: &mut Rng) -> String {
    let bin = rng.pick(BINS).to_string();
    let length = rng.int(9, 14) as usize;
    let account = rng.digits(length);
    let amount = rng.coin().then(|| u64::from(rng.int(5, 2000)) * 10_000);
    let purpose = rng.coin().then(|| rng.pick(PURPOSES).to_string());
    vietqr(&bin, &account, amount, purpose.as_deref())
}

fn url_payload(rng: &mut Rng) -> String {
    let host = rng.pick(HOSTS);
    let token: String = (0..rng.int(6, 24))
        .map(|_| char::from(*rng.pick(b"abcdefghijkmnpqrstuvwxyz23456789")))
        .collect();
    format!("https://{host}/{token}")
}

/// A VietQR (EMVCo merchant-presented) transfer payload to `account` at the bank `bin`: dynamic when it
/// carries an amount, with a valid CRC.
pub fn vietqr(bin: &str, account: &str, amount: Option<u64>, purpose: Option<&str>) -> String {
    fn field(tag: &str, value: &str) -> String {
        format!("{tag}{:02}{value}", value.chars().count())
    }
    let beneficiary = field("00", bin) + &field("01", account);
    let merchant =
        field("00", "A000000727") + &field("01", &beneficiary) + &field("02", "QRIBFTTA");
    let initiation = if amount.is_some() { "12" } else { "11" };
    let mut body = field("00", "01") + &field("01", initiation) + &field("38", &merchant);
    body += &field("53", "704");
    if let Some(amount) = amount {
        body += &field("54", &amount.to_string());
    }
    body += &field("58", "VN");
    if let Some(purpose) = purpose {
        body += &field("62", &field("08", purpose));
    }
    body += "6304";
    let crc = crc16_ccitt_false(body.as_bytes());
    format!("{body}{crc:04X}")
}

/// CRC-16/CCITT-FALSE, the checksum of an EMVCo payload.
fn crc16_ccitt_false(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &byte in bytes {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// The code of `payload` (error correction M) drawn `module` px a module, quiet zone included.
pub fn code_modules(payload: &str, module: u32, dark: u8, light: u8) -> GrayImage {
    let code = QrCode::new(payload.as_bytes()).expect("the payload fits a QR code");
    let width = code.width() as u32;
    let colors = code.to_colors();
    let side = (width + 2 * QUIET_ZONE) * module;
    GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = (x / module, y / module);
        let inside = |m: u32| (QUIET_ZONE..QUIET_ZONE + width).contains(&m);
        let is_dark = inside(mx)
            && inside(my)
            && colors[((my - QUIET_ZONE) * width + mx - QUIET_ZONE) as usize] == Color::Dark;
        Luma([if is_dark { dark } else { light }])
    })
}

/// The code of `payload` exactly `side` px wide, quiet zone included: drawn a little larger and scaled
/// down, as a picture shown at a size it was not drawn for.
pub fn code_image(payload: &str, side: u32, dark: u8, light: u8) -> GrayImage {
    let drawn = code_modules(payload, 1, dark, light).width();
    let module = side / drawn + 1;
    distort::resize(&code_modules(payload, module, dark, light), side, side)
}

/// `image` centred on a canvas `margin` px wider on every side, filled with `fill`.
fn on_canvas(image: &GrayImage, margin: u32, fill: u8) -> GrayImage {
    let (w, h) = image.dimensions();
    let mut canvas = GrayImage::from_pixel(w + 2 * margin, h + 2 * margin, Luma([fill]));
    distort::paste(&mut canvas, image, margin, margin);
    canvas
}

/// A chat app's screenshot in gray: status bar, title bar, message bubbles holding lines of "words"
/// (dark dashes, which a QR finder must not mistake for its patterns) and the input bar.
pub fn chat_screenshot(width: u32, height: u32, rng: &mut Rng) -> GrayImage {
    let mut image = GrayImage::from_pixel(width, height, Luma([236]));
    fill(&mut image, (0, 0, width, 60), 40);
    fill(&mut image, (0, 60, width, 140), 70);
    fill(&mut image, (0, height - 150, width, 150), 250);
    let mut y = 240;
    while y + 300 < height - 160 {
        let lines = rng.int(1, 5);
        let bubble_w = rng.int(400, width * 8 / 10);
        let bubble_h = 40 + lines * 46;
        let mine = rng.coin();
        let x = if mine { width - bubble_w - 30 } else { 30 };
        fill(
            &mut image,
            (x, y, bubble_w, bubble_h),
            if mine { 212 } else { 255 },
        );
        for line in 0..lines {
            let line_y = y + 26 + line * 46;
            let mut word_x = x + 24;
            while word_x + 130 < x + bubble_w - 24 {
                let word_w = rng.int(20, 110);
                fill(&mut image, (word_x, line_y, word_w, 22), 45);
                word_x += word_w + 14;
            }
        }
        y += bubble_h + rng.int(20, 60);
    }
    image
}

fn fill(image: &mut GrayImage, (x, y, w, h): (u32, u32, u32, u32), luma: u8) {
    let width = image.width() as usize;
    let (x0, x1) = (x as usize, ((x + w) as usize).min(width));
    for row in image
        .chunks_exact_mut(width)
        .skip(y as usize)
        .take(h as usize)
    {
        row[x0..x1].fill(luma);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietqr_matches_a_published_payload() {
        // From the subiz/vietqr README.
        let expected = "00020101021238570010A00000072701270006970415011300110019324180208QRIBFTTA530370454061200005802VN62170813ung ho lu lut6304C15C";
        assert_eq!(
            vietqr(
                "970415",
                "0011001932418",
                Some(120_000),
                Some("ung ho lu lut")
            ),
            expected
        );
    }

    #[test]
    fn the_set_is_the_same_for_a_seed() {
        let first: Vec<_> = (0..3).map(|i| payload(i, &mut Rng::new(7))).collect();
        let again: Vec<_> = (0..3).map(|i| payload(i, &mut Rng::new(7))).collect();
        assert_eq!(first, again);
        assert!(first[0].starts_with("000201") && first[1].starts_with("https://"));
    }

    #[test]
    fn a_code_image_has_the_size_asked() {
        let image = code_image("https://zalo.me/abc", 137, 0, 255);
        assert_eq!(image.dimensions(), (137, 137));
    }
}
