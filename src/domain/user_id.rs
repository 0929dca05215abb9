use std::fmt;

use sha2::{Digest, Sha256};

/// A Zalo user id (`sender.id`, an 18–19 digit number kept as a string) or, for the local `chat` command,
/// any short token without whitespace.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(String);

impl UserId {
    pub const MAX_LEN: usize = 64;

    pub fn parse(raw: impl Into<String>) -> Result<Self, String> {
        let raw = raw.into();
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err("user id is empty".into());
        }
        if trimmed.chars().count() > Self::MAX_LEN {
            return Err(format!(
                "user id is longer than {} characters",
                Self::MAX_LEN
            ));
        }
        if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("user id contains whitespace or control characters".into());
        }
        Ok(Self(trimmed.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A short, stable, non-reversible tag for logs: the first 10 hex digits of SHA-256(id).
    pub fn short_hash(&self) -> String {
        let digest = Sha256::digest(self.0.as_bytes());
        hex::encode(&digest[..5])
    }
}

impl AsRef<str> for UserId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Debug shows only the hash, so a stray `{:?}` in a log line cannot leak the id.
impl fmt::Debug for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UserId({})", self.short_hash())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_zalo_ids_and_rejects_garbage() {
        assert_eq!(
            UserId::parse(" 552177279717587730 ").unwrap().as_str(),
            "552177279717587730"
        );
        assert!(UserId::parse("").is_err());
        assert!(UserId::parse("a b").is_err());
        assert!(UserId::parse("x".repeat(65)).is_err());
    }

    #[test]
    fn debug_and_hash_hide_the_id() {
        let id = UserId::parse("552177279717587730").unwrap();
        let dbg = format!("{id:?}");
        assert!(!dbg.contains("552177279717587730"));
        assert_eq!(id.short_hash().len(), 10);
        assert_eq!(
            id.short_hash(),
            UserId::parse("552177279717587730").unwrap().short_hash()
        );
        assert_ne!(id.short_hash(), UserId::parse("1").unwrap().short_hash());
    }
}
