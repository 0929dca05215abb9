//! The rebalance decision: how many partitions this replica claims or hands over on a tick, from what the
//! database says about the live members.

/// One live member as the rebalance tick reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberLoad {
    pub is_me: bool,
    /// Partitions it owns now.
    pub owned: usize,
    /// Whether it counts towards the fair share: not draining and older than `min_member_age`, so a
    /// crash-looping replica does not make the others shed partitions to it. This replica always counts
    /// itself unless it is draining.
    pub counted: bool,
}

/// What this replica does on a tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Claim up to this many free partitions.
    Claim(usize),
    /// Hand over this many partitions, after draining them.
    Shed(usize),
    Hold,
}

/// The tick's step: claim free partitions up to the fair share (`ceil(P / counted members)`), shed what is
/// above it, and shed one more when another counted member is below the floor and nothing is free, so the
/// shares converge to within one of `P / N` instead of stalling at the ceiling.
pub fn rebalance(partitions: usize, free: usize, members: &[MemberLoad]) -> Step {
    let Some(me) = members.iter().find(|m| m.is_me) else {
        return Step::Hold;
    };
    if !me.counted {
        return Step::Hold;
    }
    let counted = members.iter().filter(|m| m.counted).count().max(1);
    let ceil = partitions.div_ceil(counted);
    let floor = partitions / counted;
    if me.owned < ceil && free > 0 {
        return Step::Claim((ceil - me.owned).min(free));
    }
    if me.owned > ceil {
        return Step::Shed(me.owned - ceil);
    }
    let someone_starved = members
        .iter()
        .any(|m| m.counted && !m.is_me && m.owned < floor);
    if free == 0 && me.owned == ceil && ceil > floor && someone_starved {
        return Step::Shed(1);
    }
    Step::Hold
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me(owned: usize) -> MemberLoad {
        MemberLoad {
            is_me: true,
            owned,
            counted: true,
        }
    }

    fn other(owned: usize) -> MemberLoad {
        MemberLoad {
            is_me: false,
            owned,
            counted: true,
        }
    }

    #[test]
    fn a_lone_replica_claims_everything_in_one_step() {
        assert_eq!(rebalance(256, 256, &[me(0)]), Step::Claim(256));
        assert_eq!(rebalance(256, 0, &[me(256)]), Step::Hold);
    }

    #[test]
    fn a_joining_replica_takes_free_partitions_and_the_others_shed_their_excess() {
        assert_eq!(
            rebalance(256, 0, &[me(0), other(256)]),
            Step::Hold,
            "nothing free yet"
        );
        assert_eq!(rebalance(256, 0, &[me(256), other(0)]), Step::Shed(128));
        assert_eq!(rebalance(256, 128, &[me(0), other(128)]), Step::Claim(128));
    }

    #[test]
    fn survivors_claim_a_dead_members_partitions() {
        // The dead member is not live any more: its partitions are free.
        assert_eq!(rebalance(256, 85, &[me(86), other(85)]), Step::Claim(42));
    }

    #[test]
    fn three_replicas_converge_within_one_of_the_even_split() {
        let mut owned = [256usize, 0, 0];
        let mut free = 0usize;
        for _round in 0..20 {
            for i in 0..3 {
                let members: Vec<MemberLoad> = (0..3)
                    .map(|j| MemberLoad {
                        is_me: i == j,
                        owned: owned[j],
                        counted: true,
                    })
                    .collect();
                match rebalance(256, free, &members) {
                    Step::Claim(n) => {
                        owned[i] += n;
                        free -= n;
                    }
                    Step::Shed(n) => {
                        owned[i] -= n;
                        free += n;
                    }
                    Step::Hold => {}
                }
            }
        }
        assert_eq!(free, 0);
        assert_eq!(owned.iter().sum::<usize>(), 256);
        assert!(owned.iter().all(|&n| (85..=86).contains(&n)), "{owned:?}");
    }

    #[test]
    fn a_young_or_draining_member_gets_nothing_shed_to_it() {
        let young = MemberLoad {
            is_me: false,
            owned: 0,
            counted: false,
        };
        assert_eq!(rebalance(256, 0, &[me(256), young]), Step::Hold);
        let draining_me = MemberLoad {
            is_me: true,
            owned: 10,
            counted: false,
        };
        assert_eq!(rebalance(256, 200, &[draining_me]), Step::Hold);
    }
}
