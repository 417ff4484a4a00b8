//! The memory budget of the webhook: how many bytes the bodies being read or reviewed at once
//! may cost, so that no mix of requests can push the process past its container limit.
//!
//! A request small enough to fit the free allowance ([`FREE_ALLOWANCE`]) is never charged: the
//! connection cap bounds what those cost in all, and the reviews the API server sends most
//! (Namespaces, ordinary routes) never wait behind large ones. A larger request is charged
//! [`REVIEW_COST_FACTOR`] times its size — the body, the parsed object and the answer together —
//! before its body is read, from `Content-Length` when the client declared one, so the charge is
//! taken in one step (FIFO, no request holds part of the budget while waiting for the rest);
//! without a declared length it is charged as the bytes arrive. A request that cannot get its
//! charge before its deadline is refused with 503, which the API server treats as a failed call
//! (the webhook's `failurePolicy` decides).

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Bytes of body a request may hold without being charged.
pub const FREE_ALLOWANCE: usize = 64 * 1024;

/// Peak memory of one review per byte of body: 24.5 measured on the benchmark corpus's 2 MiB
/// VirtualService CREATE (many small maps, which `serde_json::Value` stores in B-tree nodes of
/// eleven slots), with room added. An UPDATE costs less per byte (its stored object stays raw
/// text unless ratcheting needs it), so this is the worst case.
pub const REVIEW_COST_FACTOR: usize = 26;

/// The budget is counted in units of this many bytes (the semaphore takes `u32` counts).
const UNIT: usize = 1024;

/// Bytes that bodies under way may cost.
#[derive(Debug, Clone)]
pub struct MemoryBudget {
    units: Arc<Semaphore>,
    total_units: u32,
}

/// Part of the budget held by one request; returned when dropped.
#[derive(Debug, Default)]
pub struct Charge {
    permits: Option<OwnedSemaphorePermit>,
}

impl Charge {
    /// Bytes this charge holds.
    pub fn bytes(&self) -> usize {
        self.permits.as_ref().map_or(0, |p| p.num_permits() * UNIT)
    }

    fn merge(&mut self, more: OwnedSemaphorePermit) {
        match &mut self.permits {
            Some(held) => held.merge(more),
            None => self.permits = Some(more),
        }
    }
}

impl MemoryBudget {
    /// A budget of `bytes` (at least one unit, at most what the counter holds).
    pub fn new(bytes: usize) -> Self {
        let total_units = u32::try_from(bytes.div_ceil(UNIT).max(1)).unwrap_or(u32::MAX >> 4);
        Self {
            units: Arc::new(Semaphore::new(total_units as usize)),
            total_units,
        }
    }

    /// The whole budget in bytes.
    pub fn total_bytes(&self) -> usize {
        self.total_units as usize * UNIT
    }

    /// Bytes not charged to any request right now.
    pub fn available_bytes(&self) -> usize {
        self.units.available_permits() * UNIT
    }

    /// What a request whose body is `body_bytes` long is charged in all.
    pub fn cost_of(body_bytes: usize) -> usize {
        if body_bytes <= FREE_ALLOWANCE {
            0
        } else {
            body_bytes.saturating_mul(REVIEW_COST_FACTOR)
        }
    }

    /// Adds to `charge` until it covers a body of `body_bytes`, waiting for the budget to free
    /// up. The server refuses to start with a body limit whose cost exceeds the budget; should
    /// one still arrive it is charged the whole budget and runs alone.
    pub async fn charge_to(&self, charge: &mut Charge, body_bytes: usize) {
        let wanted = Self::cost_of(body_bytes).div_ceil(UNIT);
        let wanted = u32::try_from(wanted)
            .unwrap_or(u32::MAX)
            .min(self.total_units);
        let held = u32::try_from(charge.bytes() / UNIT).unwrap_or(u32::MAX);
        if wanted <= held {
            return;
        }
        // The semaphore is never closed, so acquiring only fails if it were.
        if let Ok(more) = self.units.clone().acquire_many_owned(wanted - held).await {
            charge.merge(more);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn small_bodies_are_free_and_large_ones_wait_for_each_other() {
        let budget = MemoryBudget::new(3 * 1024 * 1024 * REVIEW_COST_FACTOR / 2);
        let mut small = Charge::default();
        budget.charge_to(&mut small, FREE_ALLOWANCE).await;
        assert_eq!(small.bytes(), 0);
        assert_eq!(budget.available_bytes(), budget.total_bytes());

        let mut first = Charge::default();
        budget.charge_to(&mut first, 1024 * 1024).await;
        assert_eq!(first.bytes(), 1024 * 1024 * REVIEW_COST_FACTOR);
        // Charging again for the same size takes nothing more.
        budget.charge_to(&mut first, 1024 * 1024).await;
        assert_eq!(
            budget.available_bytes(),
            budget.total_bytes() - first.bytes()
        );

        let mut second = Charge::default();
        {
            let waiting = budget.charge_to(&mut second, 1024 * 1024);
            tokio::pin!(waiting);
            assert!(
                tokio::time::timeout(std::time::Duration::from_millis(20), &mut waiting)
                    .await
                    .is_err(),
                "the second charge cannot fit beside the first"
            );
            drop(first);
            waiting.await;
        }
        assert_eq!(second.bytes(), 1024 * 1024 * REVIEW_COST_FACTOR);
    }

    #[tokio::test]
    async fn a_body_larger_than_the_budget_takes_the_whole_budget() {
        let budget = MemoryBudget::new(1024 * 1024);
        let mut charge = Charge::default();
        budget.charge_to(&mut charge, 100 * 1024 * 1024).await;
        assert_eq!(charge.bytes(), budget.total_bytes());
        assert_eq!(budget.available_bytes(), 0);
        drop(charge);
        assert_eq!(budget.available_bytes(), budget.total_bytes());
    }
}
