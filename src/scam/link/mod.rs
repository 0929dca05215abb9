//! Link and domain signals, pure and offline: which brand a domain names or imitates, whether it is
//! that brand's own, and the shapes scam links take (risky TLDs, IP hosts, shorteners, look-alike
//! letters, machine-made names, login pages).
//!
//! The tables are data files compiled in and parsed once:
//! - `data/brands.toml`, the brand registry: each brand's name, category, the keywords that name it
//!   inside a domain and its official registrable domains, with a public page showing them (the
//!   brand's own site or its Wikipedia article). Domains that could not be checked are left out.
//! - `data/risky_tlds.toml`: TLDs mostly used for abuse, each citing the public ranking it comes
//!   from (the Cybercrime Information Center's phishing statistics, Interisle's phishing studies,
//!   DomainTools' report, Apache SpamAssassin's list).
//! - `data/shorteners.txt`: public link shorteners, from the PeterDaveHello/url-shorteners list and
//!   the MISP url-shortener warning list.
//!
//! Registrable domains come from the public suffix list (`psl`), so `com.vn`, `gov.vn` and private
//! suffixes such as `github.io` are suffixes.

mod brands;
mod host;
mod lookalike;
mod matcher;
mod reasons;
mod shape;
mod tld;

pub use brands::{Brand, BrandCategory, brands, official_brand};
pub use reasons::link_reasons;
pub use tld::is_shortener_host;
