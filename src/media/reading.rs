//! What was read from one image: the QR codes' payloads and the OCR text. Pure data and the text the
//! detection reads; the reading itself is [`super::read`].

/// One image, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageReading {
    /// SHA-256 of the image as received, hex: what is kept of the image.
    pub sha256: String,
    /// Every QR code's payload, in reading order.
    pub qr: Vec<String>,
    pub ocr: OcrOutcome,
}

/// What OCR gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OcrOutcome {
    /// The text read (NFC), maybe empty.
    Text(String),
    /// OCR is off: Tesseract is not installed or not enabled.
    Off,
    /// It ran out of time or failed on this image.
    Failed,
}

/// A stage of reading an image, the `stage` label of its duration histogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageStage {
    Decode,
    Qr,
    Ocr,
}

impl ImageStage {
    pub const ALL: [ImageStage; 3] = [ImageStage::Decode, ImageStage::Qr, ImageStage::Ocr];

    pub const fn as_str(self) -> &'static str {
        match self {
            ImageStage::Decode => "decode",
            ImageStage::Qr => "qr",
            ImageStage::Ocr => "ocr",
        }
    }
}

impl ImageReading {
    /// The OCR text, when there is some.
    #[must_use]
    pub fn ocr_text(&self) -> Option<&str> {
        match &self.ocr {
            OcrOutcome::Text(text) if !text.trim().is_empty() => Some(text),
            _ => None,
        }
    }

    /// True when neither a QR code nor any text was read.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.qr.is_empty() && self.ocr_text().is_none()
    }

    /// What the detection reads, as if the user had typed it: each QR payload on its own line (a VietQR
    /// payload is decoded by extraction, a URL checked as a link), then the text read.
    #[must_use]
    pub fn text(&self) -> String {
        let mut text = String::new();
        for payload in &self.qr {
            text.push_str(payload.trim());
            text.push('\n');
        }
        if let Some(read) = self.ocr_text() {
            text.push_str(read.trim());
        }
        text.trim_end().to_string()
    }

    /// The chat line kept for the image: its hash and what was read, never the image.
    #[must_use]
    pub fn record(&self) -> String {
        let short = self.sha256.get(..16).unwrap_or(&self.sha256);
        let text = self.text();
        if text.is_empty() {
            format!("[image sha256:{short}]")
        } else {
            format!("[image sha256:{short}]\n{text}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(qr: &[&str], ocr: OcrOutcome) -> ImageReading {
        ImageReading {
            sha256: "ab".repeat(32),
            qr: qr.iter().map(|s| s.to_string()).collect(),
            ocr,
        }
    }

    #[test]
    fn the_text_holds_qr_payloads_then_the_words_read() {
        let r = reading(
            &["https://x.top/a", "000201010212"],
            OcrOutcome::Text("Nhận quà tại đây\n".into()),
        );
        assert_eq!(r.text(), "https://x.top/a\n000201010212\nNhận quà tại đây");
        assert!(!r.is_empty());
        assert!(
            r.record()
                .starts_with("[image sha256:abababababababab]\nhttps://x.top/a")
        );
    }

    #[test]
    fn blank_ocr_text_counts_as_nothing_read() {
        for ocr in [
            OcrOutcome::Text("  \n".into()),
            OcrOutcome::Off,
            OcrOutcome::Failed,
        ] {
            let r = reading(&[], ocr);
            assert!(r.is_empty());
            assert_eq!(r.text(), "");
            assert_eq!(r.record(), "[image sha256:abababababababab]");
        }
    }
}
