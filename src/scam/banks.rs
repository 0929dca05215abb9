//! Vietnamese banks and wallets: NAPAS BINs and the names people type for them.
//!
//! BINs are those the published bank tables agree on (cross-checked against `api.vietqr.io/v2/banks`);
//! a unit test pins the well-known pairs because some published lists get them wrong.

/// A bank (with a NAPAS BIN) or an e-wallet (without one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Bank {
    /// Six-digit NAPAS BIN; `None` for wallets.
    pub bin: Option<&'static str>,
    /// The name shown to users.
    pub short_name: &'static str,
    /// Names as typed, accent-folded and lowercase; matched as whole words.
    pub aliases: &'static [&'static str],
}

const fn bank(
    bin: &'static str,
    short_name: &'static str,
    aliases: &'static [&'static str],
) -> Bank {
    Bank {
        bin: Some(bin),
        short_name,
        aliases,
    }
}

const fn wallet(short_name: &'static str, aliases: &'static [&'static str]) -> Bank {
    Bank {
        bin: None,
        short_name,
        aliases,
    }
}

pub const BANKS: &[Bank] = &[
    bank(
        "970436",
        "Vietcombank",
        &["vietcombank", "vcb", "ngoai thuong"],
    ),
    bank(
        "970415",
        "VietinBank",
        &["vietinbank", "vietin", "ctg", "icb", "cong thuong"],
    ),
    bank("970418", "BIDV", &["bidv"]),
    bank("970405", "Agribank", &["agribank", "agri", "nong nghiep"]),
    bank("970407", "Techcombank", &["techcombank", "tcb", "techcom"]),
    bank("970422", "MB", &["mbbank", "mb bank", "mb", "quan doi"]),
    bank("970416", "ACB", &["acb", "a chau"]),
    bank("970432", "VPBank", &["vpbank", "vp bank", "vpb"]),
    bank(
        "970423",
        "TPBank",
        &["tpbank", "tp bank", "tpb", "tien phong"],
    ),
    bank("970403", "Sacombank", &["sacombank", "stb", "sacom"]),
    bank("970441", "VIB", &["vib"]),
    bank("970437", "HDBank", &["hdbank", "hd bank", "hdb"]),
    bank("970443", "SHB", &["shb"]),
    bank("970448", "OCB", &["ocb", "phuong dong"]),
    bank("970426", "MSB", &["msb", "maritime bank", "hang hai"]),
    bank("970440", "SeABank", &["seabank", "sea bank"]),
    bank("970431", "Eximbank", &["eximbank", "exim", "eib"]),
    bank("970449", "LPBank", &["lpbank", "lienvietpostbank", "lpb"]),
    bank("970428", "Nam A Bank", &["nam a bank", "namabank", "nab"]),
    bank("970419", "NCB", &["ncb"]),
    bank("970425", "ABBank", &["abbank", "ab bank"]),
    bank("970409", "Bac A Bank", &["bac a bank", "bacabank"]),
    bank("970408", "GPBank", &["gpbank"]),
    bank(
        "970438",
        "BaoViet Bank",
        &["baoviet bank", "baovietbank", "bvb"],
    ),
    bank(
        "970452",
        "KienlongBank",
        &["kienlongbank", "kienlong", "klb"],
    ),
    bank("970427", "VietABank", &["vietabank", "viet a bank"]),
    bank("970433", "VietBank", &["vietbank"]),
    bank("970429", "SCB", &["scb"]),
    bank("970400", "Saigonbank", &["saigonbank"]),
    bank(
        "970406",
        "DongA Bank",
        &["donga bank", "dong a bank", "dongabank"],
    ),
    bank("970454", "BVBank", &["bvbank", "vccb", "ban viet"]),
    wallet("MoMo", &["momo", "vi momo"]),
    wallet("ZaloPay", &["zalopay", "zalo pay"]),
    wallet(
        "Viettel Money",
        &["viettel money", "viettelpay", "viettel pay"],
    ),
    wallet("VNPay", &["vnpay"]),
    wallet("ShopeePay", &["shopeepay", "shopee pay"]),
];

/// The bank with this BIN, if it is one we know.
#[must_use]
pub fn by_bin(bin: &str) -> Option<&'static Bank> {
    BANKS.iter().find(|bank| bank.bin == Some(bin))
}

/// The bank a (folded, lowercase) alias names.
#[must_use]
pub fn by_alias(alias: &str) -> Option<&'static Bank> {
    BANKS
        .iter()
        .find(|bank| bank.aliases.iter().any(|a| a.eq_ignore_ascii_case(alias)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_bins_are_pinned() {
        for (alias, bin) in [
            ("vcb", "970436"),
            ("vietinbank", "970415"),
            ("bidv", "970418"),
            ("agribank", "970405"),
            ("tcb", "970407"),
            ("mb", "970422"),
            ("acb", "970416"),
            ("vpbank", "970432"),
            ("tpbank", "970423"),
            ("sacombank", "970403"),
        ] {
            assert_eq!(by_alias(alias).and_then(|b| b.bin), Some(bin), "{alias}");
        }
        assert_eq!(by_bin("970436").map(|b| b.short_name), Some("Vietcombank"));
        assert_eq!(by_alias("momo").map(|b| b.bin), Some(None));
    }

    #[test]
    fn bins_and_aliases_are_unique_and_well_formed() {
        let mut bins = std::collections::HashSet::new();
        let mut aliases = std::collections::HashSet::new();
        for bank in BANKS {
            if let Some(bin) = bank.bin {
                assert!(
                    bin.len() == 6 && bin.bytes().all(|b| b.is_ascii_digit()),
                    "{bin}"
                );
                assert!(bins.insert(bin), "duplicate BIN {bin}");
            }
            for alias in bank.aliases {
                assert_eq!(*alias, alias.to_ascii_lowercase());
                assert!(aliases.insert(*alias), "duplicate alias {alias}");
            }
        }
    }
}
