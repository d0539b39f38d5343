//! Fault injection for internode messages: drop probability, added latency and partitions,
//! globally and per destination address.
//!
//! Rules apply on the sending side, before a message is queued: a dropped message is counted
//! and vanishes (a request then times out), a delayed one is queued after its delay (so
//! delayed messages may overtake each other). A partitioned address additionally has the
//! messages it sends to this node dropped on receipt, so a partition configured on one node
//! cuts both directions. Random choices come from one seeded RNG, so a test that makes the
//! same sends in the same order sees the same faults.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use thiserror::Error;

/// How messages to one destination (or to all) are disturbed.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FaultRule {
    /// Probability in `0.0..=1.0` that a message is dropped.
    pub drop_probability: f64,
    /// Latency added to every message.
    pub latency: Duration,
    /// Extra latency drawn uniformly from `0..=jitter` per message.
    pub jitter: Duration,
}

impl FaultRule {
    /// A rule that drops each message with `probability`.
    pub fn drop(probability: f64) -> FaultRule {
        FaultRule {
            drop_probability: probability,
            ..FaultRule::default()
        }
    }

    /// A rule that delays each message by `latency` plus up to `jitter`.
    pub fn delay(latency: Duration, jitter: Duration) -> FaultRule {
        FaultRule {
            latency,
            jitter,
            ..FaultRule::default()
        }
    }

    fn is_noop(&self) -> bool {
        self.drop_probability == 0.0 && self.latency.is_zero() && self.jitter.is_zero()
    }

    fn validate(&self) -> Result<(), FaultError> {
        if !(0.0..=1.0).contains(&self.drop_probability) {
            return Err(FaultError::InvalidDropProbability {
                value: self.drop_probability,
            });
        }
        Ok(())
    }
}

/// A fault rule that cannot be applied.
#[derive(Debug, Error, PartialEq)]
pub enum FaultError {
    /// The drop probability is not a number within `0.0..=1.0`.
    #[error("drop probability {value} is not within 0..=1")]
    InvalidDropProbability {
        /// The value given.
        value: f64,
    },
}

/// The configured faults, for display (e.g. by the admin API).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaultsSnapshot {
    /// The rule for every message.
    pub global: FaultRule,
    /// Rules for particular destinations, applied on top of the global one.
    pub destinations: BTreeMap<SocketAddr, FaultRule>,
    /// Partitioned addresses.
    pub partitioned: BTreeSet<SocketAddr>,
}

/// What happens to one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Send it now.
    Deliver,
    /// Drop it.
    Drop,
    /// Send it after this delay.
    Delay(Duration),
}

struct State {
    rng: StdRng,
    global: FaultRule,
    destinations: HashMap<SocketAddr, FaultRule>,
    partitioned: HashSet<SocketAddr>,
}

impl State {
    fn is_noop(&self) -> bool {
        self.global.is_noop() && self.destinations.is_empty() && self.partitioned.is_empty()
    }
}

/// The fault layer of one [`Messaging`](super::Messaging) instance. All methods take `&self`
/// and may be called at any time; they affect messages sent afterwards.
pub struct Faults {
    state: Mutex<State>,
    /// False while no fault is configured: the send path then skips the lock.
    active: AtomicBool,
}

impl Faults {
    /// No faults, with the RNG seeded by `seed`.
    pub fn new(seed: u64) -> Faults {
        Faults {
            state: Mutex::new(State {
                rng: StdRng::seed_from_u64(seed),
                global: FaultRule::default(),
                destinations: HashMap::new(),
                partitioned: HashSet::new(),
            }),
            active: AtomicBool::new(false),
        }
    }

    /// Restarts the RNG from `seed`.
    pub fn reseed(&self, seed: u64) {
        self.state.lock().rng = StdRng::seed_from_u64(seed);
    }

    /// Sets the rule applied to every message.
    pub fn set_global(&self, rule: FaultRule) -> Result<(), FaultError> {
        rule.validate()?;
        self.update(|state| state.global = rule);
        Ok(())
    }

    /// Sets the rule for messages to `addr` (applied after the global one: either may drop,
    /// latencies add up).
    pub fn set_destination(&self, addr: SocketAddr, rule: FaultRule) -> Result<(), FaultError> {
        rule.validate()?;
        self.update(|state| {
            if rule.is_noop() {
                state.destinations.remove(&addr);
            } else {
                state.destinations.insert(addr, rule);
            }
        });
        Ok(())
    }

    /// Removes the rule for `addr`.
    pub fn clear_destination(&self, addr: SocketAddr) {
        self.update(|state| {
            state.destinations.remove(&addr);
        });
    }

    /// Drops every message to and from `addr` until [`heal`](Faults::heal).
    pub fn partition(&self, addr: SocketAddr) {
        self.update(|state| {
            state.partitioned.insert(addr);
        });
    }

    /// Ends the partition of `addr`.
    pub fn heal(&self, addr: SocketAddr) {
        self.update(|state| {
            state.partitioned.remove(&addr);
        });
    }

    /// Whether `addr` is partitioned.
    pub fn is_partitioned(&self, addr: SocketAddr) -> bool {
        self.active.load(Ordering::Acquire) && self.state.lock().partitioned.contains(&addr)
    }

    /// Removes every rule and partition (the RNG keeps its position).
    pub fn clear(&self) {
        self.update(|state| {
            state.global = FaultRule::default();
            state.destinations.clear();
            state.partitioned.clear();
        });
    }

    /// The configured faults.
    pub fn snapshot(&self) -> FaultsSnapshot {
        let state = self.state.lock();
        FaultsSnapshot {
            global: state.global,
            destinations: state.destinations.iter().map(|(a, r)| (*a, *r)).collect(),
            partitioned: state.partitioned.iter().copied().collect(),
        }
    }

    /// Decides the fate of one message to `to`.
    pub(crate) fn decide(&self, to: SocketAddr) -> Verdict {
        if !self.active.load(Ordering::Acquire) {
            return Verdict::Deliver;
        }
        let mut state = self.state.lock();
        if state.partitioned.contains(&to) {
            return Verdict::Drop;
        }
        let destination = state.destinations.get(&to).copied();
        let mut delay = Duration::ZERO;
        for rule in std::iter::once(state.global).chain(destination) {
            if rule.drop_probability > 0.0 && state.rng.random_bool(rule.drop_probability) {
                return Verdict::Drop;
            }
            delay += rule.latency;
            if !rule.jitter.is_zero() {
                let jitter_ns = u64::try_from(rule.jitter.as_nanos()).unwrap_or(u64::MAX);
                delay += Duration::from_nanos(state.rng.random_range(0..=jitter_ns));
            }
        }
        if delay.is_zero() {
            Verdict::Deliver
        } else {
            Verdict::Delay(delay)
        }
    }

    fn update(&self, change: impl FnOnce(&mut State)) {
        let mut state = self.state.lock();
        change(&mut state);
        self.active.store(!state.is_noop(), Ordering::Release);
    }
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Faults")
            .field("config", &self.snapshot())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([10, 0, 0, 1], port))
    }

    #[test]
    fn no_faults_delivers() {
        let faults = Faults::new(1);
        assert_eq!(faults.decide(addr(1)), Verdict::Deliver);
        assert!(!faults.is_partitioned(addr(1)));
    }

    #[test]
    fn partition_drops_only_that_address_until_healed() {
        let faults = Faults::new(1);
        faults.partition(addr(1));
        assert_eq!(faults.decide(addr(1)), Verdict::Drop);
        assert_eq!(faults.decide(addr(2)), Verdict::Deliver);
        assert!(faults.is_partitioned(addr(1)));
        faults.heal(addr(1));
        assert_eq!(faults.decide(addr(1)), Verdict::Deliver);
    }

    #[test]
    fn seeded_drops_are_reproducible_and_about_the_probability() {
        let draws = |seed| {
            let faults = Faults::new(seed);
            faults.set_global(FaultRule::drop(0.5)).unwrap();
            (0..400)
                .map(|_| faults.decide(addr(1)) == Verdict::Drop)
                .collect::<Vec<_>>()
        };
        let a = draws(7);
        assert_eq!(a, draws(7));
        assert_ne!(a, draws(8));
        let dropped = a.iter().filter(|d| **d).count();
        assert!((140..=260).contains(&dropped), "{dropped} of 400 dropped");
    }

    #[test]
    fn latencies_add_and_jitter_stays_in_bounds() {
        let faults = Faults::new(3);
        faults
            .set_global(FaultRule::delay(Duration::from_millis(10), Duration::ZERO))
            .unwrap();
        faults
            .set_destination(
                addr(1),
                FaultRule::delay(Duration::from_millis(5), Duration::from_millis(5)),
            )
            .unwrap();
        for _ in 0..100 {
            match faults.decide(addr(1)) {
                Verdict::Delay(d) => {
                    assert!(d >= Duration::from_millis(15) && d <= Duration::from_millis(20))
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(
            faults.decide(addr(2)),
            Verdict::Delay(Duration::from_millis(10))
        );
        faults.clear();
        assert_eq!(faults.decide(addr(1)), Verdict::Deliver);
    }

    #[test]
    fn invalid_probability_is_refused() {
        let faults = Faults::new(0);
        assert!(faults.set_global(FaultRule::drop(1.5)).is_err());
        assert!(faults.set_global(FaultRule::drop(f64::NAN)).is_err());
        assert!(faults
            .set_destination(addr(1), FaultRule::drop(-0.1))
            .is_err());
        assert_eq!(faults.snapshot(), FaultsSnapshot::default());
    }
}
