//! Where reviews run: on tokio's blocking pool, never on the async workers that accept
//! connections and read bodies, behind two lanes — one for small bodies, one for bodies past
//! the memory budget's free allowance — so a burst of large reviews never holds up the small
//! ones the API server sends most, and no review can starve the process of threads.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Semaphore;

/// Why a review has no answer.
#[derive(Debug, PartialEq, Eq)]
pub enum NotRun {
    /// No lane freed up, or the work did not finish, before the deadline.
    Deadline,
    /// The work panicked (a bug; the process keeps serving).
    Panicked,
}

/// The review lanes.
#[derive(Debug, Clone)]
pub struct Lanes {
    small: Arc<Semaphore>,
    large: Arc<Semaphore>,
}

impl Lanes {
    /// `parallelism` small-body reviews at once and half as many (at least one) large ones.
    pub fn new(parallelism: usize) -> Self {
        let parallelism = parallelism.max(1);
        Self {
            small: Arc::new(Semaphore::new(parallelism)),
            large: Arc::new(Semaphore::new((parallelism / 2).max(1))),
        }
    }

    /// Lanes for this machine's cores.
    pub fn for_this_machine() -> Self {
        Self::new(std::thread::available_parallelism().map_or(2, usize::from))
    }

    /// Runs `work` in a lane, answering by `deadline`. `work` keeps its lane until it returns,
    /// also when the answer was given up at the deadline: the lane stays taken while the CPU is.
    pub async fn run<T: Send + 'static>(
        &self,
        large: bool,
        deadline: Instant,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, NotRun> {
        let lane = if large { &self.large } else { &self.small };
        let permit = tokio::time::timeout_at(deadline.into(), lane.clone().acquire_owned())
            .await
            .map_err(|_| NotRun::Deadline)?
            .map_err(|_| NotRun::Deadline)?;
        let task = tokio::task::spawn_blocking(move || {
            let answer = work();
            drop(permit);
            answer
        });
        match tokio::time::timeout_at(deadline.into(), task).await {
            Err(_) => Err(NotRun::Deadline),
            Ok(Err(_)) => Err(NotRun::Panicked),
            Ok(Ok(answer)) => Ok(answer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn work_past_the_deadline_is_given_up_and_keeps_its_lane() {
        let lanes = Lanes::new(1);
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let soon = Instant::now() + Duration::from_millis(50);
        let slow = lanes.run(false, soon, move || wait.recv().is_ok());
        assert_eq!(slow.await, Err(NotRun::Deadline));
        // The one small lane is still taken by the abandoned work.
        let next = lanes.run(false, Instant::now() + Duration::from_millis(50), || 1);
        assert_eq!(next.await, Err(NotRun::Deadline));
        // A large review has its own lane.
        let large = lanes.run(true, Instant::now() + Duration::from_secs(5), || 2);
        assert_eq!(large.await, Ok(2));
        release.send(()).unwrap();
        let after = lanes.run(false, Instant::now() + Duration::from_secs(5), || 3);
        assert_eq!(after.await, Ok(3));
    }

    #[tokio::test]
    async fn a_panic_is_an_error_not_a_crash() {
        let lanes = Lanes::new(2);
        let deadline = Instant::now() + Duration::from_secs(5);
        let answer = lanes.run(false, deadline, || -> u8 { panic!("bug") });
        assert_eq!(answer.await, Err(NotRun::Panicked));
    }
}
