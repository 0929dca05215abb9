//! Fault injection for tests and chaos runs: "panic the next N times at point P", or "panic at random, one
//! pass in K, at point P".
//!
//! Each application instance owns its own `Faults`, so tests running side by side in one process do not
//! affect each other. Disarmed (the default), a check is two relaxed atomic loads. This is the one piece of
//! state shared between actors besides the metrics recorder, on purpose: it is test instrumentation.
//! A running service can be given random faults with `TRADESPHERE_CHAOS` (see [`Faults::from_spec`]), for
//! chaos and soak runs; it is never set in a deployment.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultPoint {
    /// Inside a conversation actor, before the event is handled.
    Conversation,
    /// Inside the scam detector, while checking a message.
    Scam,
    /// Inside the LLM actor, while taking a request.
    Llm,
    /// Inside the outbound actor, while taking parts to send.
    Outbound,
    /// In a token refresh, after Zalo answered with a new pair and before it is committed.
    TokenCommit,
}

impl FaultPoint {
    const COUNT: usize = 5;
    pub const ALL: [FaultPoint; Self::COUNT] = [
        Self::Conversation,
        Self::Scam,
        Self::Llm,
        Self::Outbound,
        Self::TokenCommit,
    ];

    fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Conversation => "conversation",
            Self::Scam => "scam",
            Self::Llm => "llm",
            Self::Outbound => "outbound",
            Self::TokenCommit => "token_commit",
        }
    }
}

#[derive(Debug, Default)]
struct Slots {
    /// Panics left to fire, per point.
    shots: [AtomicU32; FaultPoint::COUNT],
    /// Random mode: panic on one pass in `one_in` (0 = off), per point.
    one_in: [AtomicU32; FaultPoint::COUNT],
    /// Passes through random-mode points; hashed into the draw, so runs with one seed repeat.
    draws: AtomicU64,
    seed: AtomicU64,
    /// Panics fired, all points together (the chaos test compares it with the restarts counted).
    fired: AtomicU64,
}

#[derive(Debug, Clone, Default)]
pub struct Faults(Arc<Slots>);

impl Faults {
    /// The next `times` passes through `point` panic.
    pub fn arm(&self, point: FaultPoint, times: u32) {
        self.0.shots[point.index()].store(times, Ordering::SeqCst);
    }

    /// From now on, each pass through `point` panics with probability 1/`one_in` (0 turns it off).
    pub fn chaos(&self, point: FaultPoint, one_in: u32) {
        self.0.one_in[point.index()].store(one_in, Ordering::SeqCst);
    }

    /// Seeds the random mode, so a chaos run can be repeated.
    pub fn seed(&self, seed: u64) {
        self.0.seed.store(seed, Ordering::SeqCst);
    }

    /// Turns every random fault off (armed shots stay).
    pub fn calm(&self) {
        for slot in &self.0.one_in {
            slot.store(0, Ordering::SeqCst);
        }
    }

    /// Panics fired so far.
    pub fn fired(&self) -> u64 {
        self.0.fired.load(Ordering::SeqCst)
    }

    /// Parses `point:one_in[,point:one_in…]` (for example `conversation:20,scam:50`), optionally with
    /// `seed:N`, as `TRADESPHERE_CHAOS` gives it.
    pub fn from_spec(spec: &str) -> Result<Self, String> {
        let faults = Faults::default();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, value) = item
                .split_once(':')
                .ok_or_else(|| format!("`{item}`: expected point:one_in"))?;
            let value: u64 = value
                .trim()
                .parse()
                .map_err(|_| format!("`{item}`: not a number"))?;
            if name.trim() == "seed" {
                faults.seed(value);
                continue;
            }
            let point = FaultPoint::ALL
                .into_iter()
                .find(|p| p.name() == name.trim())
                .ok_or_else(|| format!("`{name}`: unknown fault point"))?;
            let one_in = u32::try_from(value).map_err(|_| format!("`{item}`: too large"))?;
            faults.chaos(point, one_in);
        }
        Ok(faults)
    }

    /// Panics if `point` is armed (consuming one shot) or its random draw says so. Called at the top of
    /// actor handlers.
    pub fn trip(&self, point: FaultPoint) {
        let slots = &self.0;
        let slot = &slots.shots[point.index()];
        if slot.load(Ordering::Relaxed) != 0
            && slot
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
        {
            slots.fired.fetch_add(1, Ordering::SeqCst);
            panic!("injected fault at {point:?}");
        }
        let one_in = slots.one_in[point.index()].load(Ordering::Relaxed);
        if one_in != 0 {
            let draw = slots.draws.fetch_add(1, Ordering::Relaxed);
            let seed = slots.seed.load(Ordering::Relaxed);
            if splitmix64(seed ^ draw.wrapping_mul(0x9E37_79B9_7F4A_7C15))
                .is_multiple_of(u64::from(one_in))
            {
                slots.fired.fetch_add(1, Ordering::SeqCst);
                panic!("injected random fault at {point:?}");
            }
        }
    }
}

/// A well-mixed hash of a counter: cheap, dependency-free randomness good enough for fault draws.
fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panics(faults: &Faults, point: FaultPoint) -> bool {
        std::panic::catch_unwind(|| faults.trip(point)).is_err()
    }

    #[test]
    fn armed_shots_fire_exactly_n_times() {
        let faults = Faults::default();
        faults.arm(FaultPoint::Scam, 2);
        assert!(panics(&faults, FaultPoint::Scam));
        assert!(
            !panics(&faults, FaultPoint::Llm),
            "other points are untouched"
        );
        assert!(panics(&faults, FaultPoint::Scam));
        assert!(!panics(&faults, FaultPoint::Scam));
        assert_eq!(faults.fired(), 2);
    }

    #[test]
    fn random_faults_fire_at_about_the_configured_rate_and_repeat_with_a_seed() {
        let run = |seed| {
            let faults = Faults::from_spec(&format!("llm:10,seed:{seed}")).unwrap();
            let pattern: Vec<bool> = (0..2000)
                .map(|_| panics(&faults, FaultPoint::Llm))
                .collect();
            pattern
        };
        let first = run(7);
        let fired = first.iter().filter(|p| **p).count();
        assert!(
            (120..=280).contains(&fired),
            "about 1 in 10 of 2000: {fired}"
        );
        assert_eq!(first, run(7), "same seed, same faults");
        assert_ne!(first, run(8));
    }

    #[test]
    fn calm_turns_random_faults_off() {
        let faults = Faults::from_spec("outbound:1").unwrap();
        assert!(panics(&faults, FaultPoint::Outbound));
        faults.calm();
        assert!(!panics(&faults, FaultPoint::Outbound));
    }

    #[test]
    fn bad_specs_are_refused() {
        assert!(Faults::from_spec("nowhere:3").is_err());
        assert!(Faults::from_spec("scam").is_err());
        assert!(Faults::from_spec("scam:x").is_err());
        assert!(Faults::from_spec("").is_ok());
    }
}
