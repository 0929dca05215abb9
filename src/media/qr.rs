//! PLACEHOLDER until img-qr merges.
pub fn decode_qr(_image: &image::GrayImage) -> Vec<String> {
    Vec::new()
}
