//! Users hash into a fixed number of partitions; replicas own partitions, never single users.

use sha2::{Digest, Sha256};

use super::UserId;

/// Partitions a cluster has unless configured otherwise (`cluster.partitions`).
pub const DEFAULT_PARTITIONS: u16 = 256;

/// One of the `P` partitions: the first byte of SHA-256 of the user id, scaled to `P`. A prefix of the hash, so
/// more partitions later split each one without moving a user to another parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Partition(u16);

impl Partition {
    /// The partition of `user` among `partitions` (1..=256).
    pub fn of(user: &UserId, partitions: u16) -> Self {
        let first = Sha256::digest(user.as_str().as_bytes())[0];
        Self((u32::from(first) * u32::from(partitions.clamp(1, 256)) / 256) as u16)
    }

    /// A partition number read back from the database or configuration; None outside `0..partitions`.
    pub fn new(number: i64, partitions: u16) -> Option<Self> {
        (0..i64::from(partitions))
            .contains(&number)
            .then_some(Self(number as u16))
    }

    pub fn number(self) -> u16 {
        self.0
    }

    /// As the database stores it (`smallint`).
    pub fn as_i16(self) -> i16 {
        self.0 as i16
    }
}

impl std::fmt::Display for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_has_one_partition_and_users_spread_over_all_of_them() {
        let user = UserId::parse("7000000000000000001").unwrap();
        assert_eq!(Partition::of(&user, 256), Partition::of(&user, 256));
        let mut seen = std::collections::HashSet::new();
        for n in 0..5000 {
            let user = UserId::parse(format!("70000000000{n:08}")).unwrap();
            seen.insert(Partition::of(&user, 256));
        }
        assert_eq!(seen.len(), 256, "5,000 users reach every partition");
    }

    /// The same value as PostgreSQL's `get_byte(sha256(convert_to(id, 'UTF8')), 0)`, which the migration
    /// uses to backfill open rows; fewer partitions group neighbouring bytes.
    #[test]
    fn the_partition_is_the_first_byte_of_sha256_scaled_down() {
        let user = UserId::parse("abc").unwrap();
        // sha256("abc") starts with 0xba.
        assert_eq!(Partition::of(&user, 256).number(), 0xba);
        assert_eq!(Partition::of(&user, 128).number(), 0xba / 2);
        assert_eq!(Partition::of(&user, 1).number(), 0);
    }

    #[test]
    fn numbers_outside_the_range_are_refused() {
        assert_eq!(Partition::new(255, 256).map(Partition::number), Some(255));
        assert_eq!(Partition::new(256, 256), None);
        assert_eq!(Partition::new(-1, 256), None);
    }
}
