//! Several replicas on one PostgreSQL. Users hash into partitions ([`Partition`]); a replica owns partitions
//! through leases on the database clock, each with an epoch that fences the writes acting on ownership, and
//! handles only its own partitions' events and replies. `actors::cluster` keeps the leases (heartbeat, claims,
//! hand-overs) and publishes them here as an [`Ownership`] snapshot, which intake, outbound and the store read
//! on their hot paths. SQLite is single-process: [`Ownership::solo`] owns everything and fences nothing.
//!
//! This module is pure: the snapshot and the decisions ([`plan`]); the statements are in `store::cluster`.

mod ownership;
pub mod plan;

pub use ownership::{Lease, MemberId, Ownership};

pub use crate::domain::Partition;

/// A write that acts on ownership and is refused when another replica owns the partition now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FencedOp {
    /// A completion: the handled mark, the chat lines, the reply parts.
    Complete,
    /// The claim of a reply part for sending.
    Claim,
    /// A hand-over of a partition.
    Release,
    /// The takeover housekeeping of a gained partition.
    Housekeeping,
}

impl FencedOp {
    pub const ALL: [FencedOp; 4] = [
        Self::Complete,
        Self::Claim,
        Self::Release,
        Self::Housekeeping,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Complete => "complete",
            Self::Claim => "claim",
            Self::Release => "release",
            Self::Housekeeping => "housekeeping",
        }
    }
}

/// Why this replica stopped owning a partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LossReason {
    /// Its local trust ran out before a heartbeat renewed it.
    Deadline,
    /// The heartbeat found its member lease expired: every partition is gone at once.
    Heartbeat,
    /// A write found the partition owned by another replica.
    Fenced,
    /// Handed over to even out the shares.
    Shed,
    /// Released on a graceful stop.
    Shutdown,
}

impl LossReason {
    pub const ALL: [LossReason; 5] = [
        Self::Deadline,
        Self::Heartbeat,
        Self::Fenced,
        Self::Shed,
        Self::Shutdown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deadline => "deadline",
            Self::Heartbeat => "heartbeat",
            Self::Fenced => "fenced",
            Self::Shed => "shed",
            Self::Shutdown => "shutdown",
        }
    }
}
