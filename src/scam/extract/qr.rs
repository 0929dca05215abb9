//! VietQR payloads pasted as text: the bank and account they name, found only when a number run holds
//! the payload start.

use crate::scam::banks;
use crate::scam::entity::{Entity, EntityKind};
use crate::scam::vietqr;

/// Every VietQR payload starts with the payload-format indicator `000201` (see `vietqr`).
const QR_PAYLOAD_START: &[u8] = b"000201";

/// Six digits in a row lie inside one number run; most messages have no such run, and then `vietqr` is
/// not asked to search.
pub(super) fn may_hold_a_qr_payload(run: &str) -> bool {
    run.as_bytes()
        .windows(QR_PAYLOAD_START.len())
        .any(|w| w == QR_PAYLOAD_START)
}

pub(super) fn find_qr_transfers(text: &str) -> Vec<Entity> {
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

#[cfg(test)]
mod tests {
    use crate::scam::entity::EntityKind;
    use crate::scam::extract::extract;

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
}
