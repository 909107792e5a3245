//! Delay between attempts: exponential growth, a cap, and jitter.
//!
//! Jitter is not decoration. When a server restarts, every client notices within the same
//! second; without jitter they all come back in the same millisecond, again and again at
//! every doubling. Both jittered modes spread even the *first* retry over a window
//! (`[min, min·factor]`), because the first retry is the herd.
//!
//! With `k` = the number of the retry since the last reset (1, 2, …) and
//! `grow(n) = clamp(min · factorⁿ, min, max)`:
//!
//! | [`Jitter`]     | delay of retry `k`                              | defaults (s)               |
//! |----------------|-------------------------------------------------|----------------------------|
//! | `None`         | `grow(k−1)`                                     | 1, 2, 4, 8, 16, 30, 30 …   |
//! | `Full`         | uniform in `[min, grow(k)]`                     | [1,2], [1,4], … [1,30]     |
//! | `Decorrelated` | uniform in `[min, prev · (factor+1)]`, ≤ `max`  | AWS "decorrelated jitter"  |
//!
//! All arithmetic saturates; a non-finite or sub-1 `factor` is treated as 1, and a `max`
//! below `min` as `min`.

use crate::rng::RandomSource;

/// How delays are randomised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "snake_case")
)]
#[non_exhaustive]
pub enum Jitter {
    /// No randomness: `min`, `min·factor`, … up to `max`.
    None,
    /// Uniform between `min` and the exponential ceiling (the default).
    Full,
    /// Each delay uniform between `min` and `(factor + 1)` times the previous one.
    Decorrelated,
}

impl Jitter {
    /// The canonical name: `none`, `full`, `decorrelated`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Full => "full",
            Self::Decorrelated => "decorrelated",
        }
    }
}

/// Exponential backoff parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackoffPolicy {
    /// Smallest delay. Default 1 000 ms.
    pub min_delay_ms: u64,
    /// Largest delay. Default 30 000 ms.
    pub max_delay_ms: u64,
    /// Growth per retry. Default 2.0.
    pub factor: f64,
    /// Randomisation. Default [`Jitter::Full`].
    pub jitter: Jitter,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        Self {
            min_delay_ms: 1_000,
            max_delay_ms: 30_000,
            factor: 2.0,
            jitter: Jitter::Full,
        }
    }
}

impl BackoffPolicy {
    fn lo(&self) -> u64 {
        self.min_delay_ms
    }

    fn hi(&self) -> u64 {
        self.max_delay_ms.max(self.min_delay_ms)
    }

    fn factor(&self) -> f64 {
        if self.factor.is_finite() && self.factor >= 1.0 {
            self.factor
        } else {
            1.0
        }
    }

    /// `clamp(min · baseⁿ, min, max)` without overflow or NaN.
    fn scaled(&self, base: f64, n: u32) -> u64 {
        let f = self.lo() as f64 * base.powi(n.min(1_024) as i32);
        // NaN fails the comparison and lands on `hi`, as does anything too large.
        if f < self.hi() as f64 {
            (f as u64).max(self.lo())
        } else {
            self.hi()
        }
    }

    /// The inclusive range every delay of retry `k` (1-based) lies in.
    pub fn bounds(&self, k: u32) -> (u64, u64) {
        let k = k.max(1);
        match self.jitter {
            Jitter::None => {
                let d = self.scaled(self.factor(), k - 1);
                (d, d)
            }
            Jitter::Full => (self.lo(), self.scaled(self.factor(), k)),
            Jitter::Decorrelated => (self.lo(), self.scaled(self.factor() + 1.0, k)),
        }
    }
}

/// Backoff progress within one run of attempts.
#[derive(Debug, Clone, Default)]
pub(crate) struct Backoff {
    retries: u32,
    prev: u64,
}

impl Backoff {
    /// Forget all growth: the next delay is the first one again.
    pub(crate) fn reset(&mut self) {
        *self = Self::default();
    }

    /// The delay before the next retry.
    pub(crate) fn next_delay(&mut self, policy: &BackoffPolicy, rng: &mut dyn RandomSource) -> u64 {
        self.retries = self.retries.saturating_add(1);
        let delay = match policy.jitter {
            Jitter::None | Jitter::Full => {
                let (lo, hi) = policy.bounds(self.retries);
                uniform(rng, lo, hi)
            }
            Jitter::Decorrelated => {
                let prev = if self.prev == 0 { policy.lo() } else { self.prev };
                let upper = prev as f64 * (policy.factor() + 1.0);
                let upper = if upper < policy.hi() as f64 {
                    (upper as u64).max(policy.lo())
                } else {
                    policy.hi()
                };
                uniform(rng, policy.lo(), upper)
            }
        };
        self.prev = delay;
        delay
    }
}

/// Uniform in `[lo, hi]` (modulo bias is irrelevant at these ranges).
fn uniform(rng: &mut dyn RandomSource, lo: u64, hi: u64) -> u64 {
    if hi <= lo {
        return lo;
    }
    match (hi - lo).checked_add(1) {
        Some(span) => lo + rng.next_u64() % span,
        None => rng.next_u64(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SeededRandom;

    fn run(policy: BackoffPolicy, n: u32, seed: u64) -> Vec<u64> {
        let mut b = Backoff::default();
        let mut rng = SeededRandom::new(seed);
        (0..n).map(|_| b.next_delay(&policy, &mut rng)).collect()
    }

    #[test]
    fn no_jitter_grows_exponentially_to_the_cap() {
        let p = BackoffPolicy {
            jitter: Jitter::None,
            ..BackoffPolicy::default()
        };
        assert_eq!(
            run(p, 8, 1),
            [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]
        );
    }

    #[test]
    fn full_jitter_stays_within_growing_bounds() {
        let p = BackoffPolicy::default();
        for seed in 0..200 {
            for (i, d) in run(p, 12, seed).into_iter().enumerate() {
                let (lo, hi) = p.bounds(i as u32 + 1);
                assert!(lo <= d && d <= hi, "retry {} delay {d} not in [{lo},{hi}]", i + 1);
                assert!((1_000..=30_000).contains(&d));
            }
        }
        assert_eq!(p.bounds(1), (1_000, 2_000));
        assert_eq!(p.bounds(3), (1_000, 8_000));
        assert_eq!(p.bounds(40), (1_000, 30_000));
    }

    #[test]
    fn full_jitter_spreads_the_first_retry() {
        let p = BackoffPolicy::default();
        let firsts: std::collections::HashSet<u64> = (0..50).map(|s| run(p, 1, s)[0]).collect();
        assert!(firsts.len() > 40, "first retries should differ across clients");
    }

    #[test]
    fn decorrelated_within_policy_bounds_and_grows() {
        let p = BackoffPolicy {
            jitter: Jitter::Decorrelated,
            ..BackoffPolicy::default()
        };
        let mut late_sum = 0;
        for seed in 0..200 {
            let ds = run(p, 20, seed);
            for (i, &d) in ds.iter().enumerate() {
                let (lo, hi) = p.bounds(i as u32 + 1);
                assert!(lo <= d && d <= hi);
            }
            late_sum += ds[19];
        }
        assert!(late_sum / 200 > 5_000, "decorrelated delays should grow on average");
    }

    #[test]
    fn reset_starts_over() {
        let p = BackoffPolicy {
            jitter: Jitter::None,
            ..BackoffPolicy::default()
        };
        let mut b = Backoff::default();
        let mut rng = SeededRandom::new(0);
        for _ in 0..5 {
            b.next_delay(&p, &mut rng);
        }
        b.reset();
        assert_eq!(b.next_delay(&p, &mut rng), 1_000);
    }

    #[test]
    fn hostile_parameters_do_not_panic() {
        for p in [
            BackoffPolicy {
                min_delay_ms: u64::MAX,
                max_delay_ms: 0,
                factor: f64::NAN,
                jitter: Jitter::Full,
            },
            BackoffPolicy {
                min_delay_ms: 0,
                max_delay_ms: u64::MAX,
                factor: f64::INFINITY,
                jitter: Jitter::Full,
            },
            BackoffPolicy {
                min_delay_ms: 0,
                max_delay_ms: u64::MAX,
                factor: 1e300,
                jitter: Jitter::Decorrelated,
            },
            BackoffPolicy {
                min_delay_ms: 5,
                max_delay_ms: 1,
                factor: -3.0,
                jitter: Jitter::None,
            },
            BackoffPolicy {
                min_delay_ms: 0,
                max_delay_ms: 0,
                factor: 2.0,
                jitter: Jitter::Decorrelated,
            },
        ] {
            for d in run(p, 2_000, 3) {
                assert!(d >= p.min_delay_ms && d <= p.max_delay_ms.max(p.min_delay_ms));
            }
        }
    }
}
