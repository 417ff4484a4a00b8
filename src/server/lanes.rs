//! Where reviews run: on threads of their own, never on the async workers that accept
//! connections and read bodies, in two lanes — one for small bodies, one for bodies past the
//! memory budget's free allowance — so a burst of large reviews never holds up the small ones
//! the API server sends most, and no review can starve the process of threads.
//!
//! The threads are fixed, not tokio's growing blocking pool, because the C allocator keeps a
//! heap per thread and returns little of it: with a fixed set, a large review reuses the heap
//! the previous one left, so the process's memory stays what the budget charges for.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::{Semaphore, oneshot};

/// Why a review has no answer.
#[derive(Debug, PartialEq, Eq)]
pub enum NotRun {
    /// No lane freed up, or the work did not finish, before the deadline.
    Deadline,
    /// The work panicked (a bug; the process keeps serving).
    Panicked,
}

type Job = Box<dyn FnOnce() + Send>;

/// A number of threads taking work from one queue, and the permits that keep the queue no
/// longer than the threads.
#[derive(Debug)]
struct Lane {
    permits: Arc<Semaphore>,
    jobs: Mutex<Sender<Job>>,
}

impl Lane {
    fn new(name: &str, threads: usize) -> Self {
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..threads {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("meshgate-{name}-{i}"))
                .spawn(move || work(&queue));
            if let Err(e) = spawned {
                tracing::error!("could not start review thread {name}-{i}: {e}");
            }
        }
        Self {
            permits: Arc::new(Semaphore::new(threads)),
            jobs: Mutex::new(jobs),
        }
    }
}

/// A lane thread: runs jobs until the lane is dropped. A panicking job is caught so the thread
/// goes on; its caller sees the answer channel closed.
fn work(queue: &Mutex<Receiver<Job>>) {
    loop {
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => {
                let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
            }
            Err(_) => return,
        }
    }
}

/// The review lanes.
#[derive(Debug, Clone)]
pub struct Lanes {
    small: Arc<Lane>,
    large: Arc<Lane>,
}

impl Lanes {
    /// `parallelism` threads for small-body reviews and half as many (at least one) for large
    /// ones.
    pub fn new(parallelism: usize) -> Self {
        let parallelism = parallelism.max(1);
        Self {
            small: Arc::new(Lane::new("review", parallelism)),
            large: Arc::new(Lane::new("review-large", (parallelism / 2).max(1))),
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
        let permit = tokio::time::timeout_at(deadline.into(), lane.permits.clone().acquire_owned())
            .await
            .map_err(|_| NotRun::Deadline)?
            .map_err(|_| NotRun::Deadline)?;
        let (answer_tx, answer_rx) = oneshot::channel();
        let job: Job = Box::new(move || {
            let answer = work();
            drop(permit);
            let _ = answer_tx.send(answer);
        });
        let sent = lane.jobs.lock().is_ok_and(|jobs| jobs.send(job).is_ok());
        if !sent {
            return Err(NotRun::Panicked);
        }
        match tokio::time::timeout_at(deadline.into(), answer_rx).await {
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
    async fn a_panic_is_an_error_and_the_lane_goes_on() {
        let lanes = Lanes::new(1);
        let deadline = Instant::now() + Duration::from_secs(5);
        let answer = lanes.run(false, deadline, || -> u8 { panic!("bug") });
        assert_eq!(answer.await, Err(NotRun::Panicked));
        let next = lanes.run(false, deadline, || 4);
        assert_eq!(next.await, Ok(4));
    }
}
