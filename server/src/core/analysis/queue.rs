//! The analysis queue: jobs wait in lanes (one per organisation and analyzer), and
//! [`Queue::next`] hands out the next job that may start, with one of the global concurrency
//! permits.
//!
//! A lane may have a budget: at most `rate` starts in any sliding `window`. The budget is
//! checked and spent under one lock by the only place that starts jobs, so it is never
//! overshot however many requests arrive at once (Cortex counts after the fact and overshoots,
//! #293). A job over budget is not refused: it waits in its lane until the window lets it start.
//! Lanes are served round robin, so one organisation's backlog does not starve another's.
//!
//! Only job ids and start times live here (a waiting job costs its id): the jobs themselves are
//! in the database, and the queue is rebuilt from it at start.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

/// A lane: an organisation and one of its analyzers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Lane {
    pub org: String,
    pub analyzer: String,
}

/// At most `rate` starts in any `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub rate: u32,
    pub window: Duration,
}

/// What a lane's budget allows now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub used: u32,
    pub remaining: u32,
    /// Jobs waiting in the lane.
    pub waiting: u32,
    /// When the oldest start of the window leaves it (ms since the epoch), if the window holds any.
    pub frees_at: Option<i64>,
}

/// A job handed out by [`Queue::next`]: it holds one of the concurrency permits until dropped.
#[derive(Debug)]
pub struct Started {
    pub job: String,
    pub lane: Lane,
    pub permit: OwnedSemaphorePermit,
    /// When the start was counted (ms since the epoch): the job's start date.
    pub at: i64,
}

/// Why [`Queue::push_within_budget`] refused a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverBudget {
    pub frees_at: Option<i64>,
}

#[derive(Default)]
struct LaneState {
    waiting: VecDeque<String>,
    /// Start times (ms) within the budget's window, oldest first.
    starts: VecDeque<i64>,
    budget: Option<Budget>,
}

impl LaneState {
    fn prune(&mut self, now: i64) {
        let Some(b) = self.budget else {
            self.starts.clear();
            return;
        };
        let since = now - window_ms(b);
        while self.starts.front().is_some_and(|t| *t <= since) {
            self.starts.pop_front();
        }
    }

    /// When this lane can start its next job: now (`None`), or at the returned time.
    fn blocked_until(&mut self, now: i64) -> Option<i64> {
        self.prune(now);
        let b = self.budget?;
        if (self.starts.len() as u64) < u64::from(b.rate) {
            return None;
        }
        // rate == 0: nothing ever starts; check again in a window.
        Some(self.starts.front().map_or(now + window_ms(b), |t| t + window_ms(b)))
    }

    fn quota(&mut self, now: i64) -> Option<Quota> {
        self.prune(now);
        let b = self.budget?;
        let used = self.starts.len() as u32;
        Some(Quota {
            used,
            remaining: b.rate.saturating_sub(used),
            waiting: self.waiting.len() as u32,
            frees_at: self.starts.front().map(|t| t + window_ms(b)),
        })
    }
}

fn window_ms(b: Budget) -> i64 {
    i64::try_from(b.window.as_millis()).unwrap_or(i64::MAX / 4)
}

struct Inner {
    lanes: HashMap<Lane, LaneState>,
    /// Lanes with waiting jobs, in serving order.
    ready: VecDeque<Lane>,
}

/// The queue (see the module's doc).
pub struct Queue {
    inner: Mutex<Inner>,
    wake: Notify,
    permits: Arc<Semaphore>,
    clock: fn() -> i64,
}

impl Queue {
    /// A queue that runs at most `concurrency` jobs at once (at least one).
    pub fn new(concurrency: usize) -> Queue {
        Queue::with_clock(concurrency, crate::core::store::now_millis)
    }

    pub fn with_clock(concurrency: usize, clock: fn() -> i64) -> Queue {
        Queue {
            inner: Mutex::new(Inner { lanes: HashMap::new(), ready: VecDeque::new() }),
            wake: Notify::new(),
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            clock,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Set (or remove) a lane's budget; waiting jobs are reconsidered at once.
    pub fn set_budget(&self, lane: &Lane, budget: Option<Budget>) {
        self.lock().lanes.entry(lane.clone()).or_default().budget = budget;
        self.wake.notify_one();
    }

    /// Count a start this queue did not make: one before it existed (rebuilt at start from the
    /// jobs' start dates, so a restart does not give a fresh budget), or another process's on a
    /// shared database. A lane without a budget counts nothing.
    pub fn record_start(&self, lane: &Lane, at: i64) {
        let now = (self.clock)();
        let mut inner = self.lock();
        let Some(l) = inner.lanes.get_mut(lane).filter(|l| l.budget.is_some()) else { return };
        let pos = l.starts.partition_point(|t| *t <= at);
        l.starts.insert(pos, at);
        l.prune(now);
    }

    /// Queue a job at the end of its lane.
    pub fn push(&self, lane: &Lane, job: String) {
        let mut inner = self.lock();
        Self::push_locked(&mut inner, lane, job);
        drop(inner);
        self.wake.notify_one();
    }

    fn push_locked(inner: &mut Inner, lane: &Lane, job: String) {
        let l = inner.lanes.entry(lane.clone()).or_default();
        l.waiting.push_back(job);
        if l.waiting.len() == 1 {
            inner.ready.push_back(lane.clone());
        }
    }

    /// Queue a job only if the lane's budget can still take it (counting the jobs already
    /// waiting): Cortex's behaviour, answered with 429 by the API.
    pub fn push_within_budget(&self, lane: &Lane, job: String) -> Result<(), OverBudget> {
        let now = (self.clock)();
        let mut inner = self.lock();
        let l = inner.lanes.entry(lane.clone()).or_default();
        if let Some(q) = l.quota(now) {
            if q.used as u64 + q.waiting as u64 >= u64::from(q.used + q.remaining) {
                return Err(OverBudget { frees_at: q.frees_at });
            }
        }
        Self::push_locked(&mut inner, lane, job);
        drop(inner);
        self.wake.notify_one();
        Ok(())
    }

    /// Take a waiting job out (deleted before it started); whether it was waiting.
    pub fn remove(&self, lane: &Lane, job: &str) -> bool {
        let mut inner = self.lock();
        let Some(l) = inner.lanes.get_mut(lane) else { return false };
        let before = l.waiting.len();
        l.waiting.retain(|j| j != job);
        let removed = l.waiting.len() != before;
        if l.waiting.is_empty() {
            inner.ready.retain(|x| x != lane);
        }
        removed
    }

    /// The lane's budget now, if it has one.
    pub fn quota(&self, lane: &Lane) -> Option<Quota> {
        let now = (self.clock)();
        self.lock().lanes.get_mut(lane).and_then(|l| l.quota(now))
    }

    /// Jobs waiting in every lane.
    pub fn waiting(&self) -> usize {
        self.lock().lanes.values().map(|l| l.waiting.len()).sum()
    }

    /// The next job allowed to start, with a concurrency permit; waits for one.
    pub async fn next(&self) -> Started {
        loop {
            let notified = self.wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let permit = match self.permits.clone().acquire_owned().await {
                Ok(p) => p,
                // The semaphore is never closed.
                Err(_) => std::future::pending().await,
            };
            let wait_until = {
                let now = (self.clock)();
                let mut inner = self.lock();
                match Self::pick(&mut inner, now) {
                    Ok((lane, job)) => return Started { job, lane, permit, at: now },
                    Err(until) => until.map(|t| (t - now).max(1)),
                }
            };
            drop(permit);
            match wait_until {
                Some(ms) => {
                    tokio::select! {
                        () = &mut notified => {}
                        () = tokio::time::sleep(Duration::from_millis(ms as u64)) => {}
                    }
                }
                None => notified.await,
            }
        }
    }

    /// The first ready lane (round robin) that may start now: its job, the start recorded. Or
    /// when the earliest blocked lane frees up (`None`: nothing is waiting).
    fn pick(inner: &mut Inner, now: i64) -> Result<(Lane, String), Option<i64>> {
        let mut earliest: Option<i64> = None;
        for _ in 0..inner.ready.len() {
            let Some(lane) = inner.ready.pop_front() else { break };
            let Some(l) = inner.lanes.get_mut(&lane) else { continue };
            if l.waiting.is_empty() {
                continue;
            }
            match l.blocked_until(now) {
                None => {
                    let job = l.waiting.pop_front().unwrap_or_default();
                    if l.budget.is_some() {
                        l.starts.push_back(now);
                    }
                    if !l.waiting.is_empty() {
                        inner.ready.push_back(lane.clone());
                    }
                    return Ok((lane, job));
                }
                Some(t) => {
                    earliest = Some(earliest.map_or(t, |e: i64| e.min(t)));
                    inner.ready.push_back(lane);
                }
            }
        }
        Err(earliest)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicI64, Ordering};

    use super::*;

    static NOW: AtomicI64 = AtomicI64::new(1_000_000);
    fn clock() -> i64 {
        NOW.load(Ordering::SeqCst)
    }

    fn lane(a: &str) -> Lane {
        Lane { org: "soc".into(), analyzer: a.into() }
    }

    async fn take(q: &Queue) -> Option<Started> {
        tokio::time::timeout(Duration::from_millis(50), q.next()).await.ok()
    }

    #[tokio::test]
    async fn a_budget_is_never_overshot_and_the_rest_waits() {
        let q = Queue::with_clock(100, clock);
        let l = lane("a");
        q.set_budget(&l, Some(Budget { rate: 3, window: Duration::from_secs(60) }));
        for i in 0..5 {
            q.push(&l, format!("j{i}"));
        }
        let mut started = Vec::new();
        while let Some(s) = take(&q).await {
            started.push(s);
        }
        assert_eq!(started.iter().map(|s| s.job.as_str()).collect::<Vec<_>>(), ["j0", "j1", "j2"]);
        let quota = q.quota(&l).unwrap();
        assert_eq!((quota.used, quota.remaining, quota.waiting), (3, 0, 2));
        assert_eq!(q.push_within_budget(&l, "x".into()), Err(OverBudget { frees_at: Some(clock() + 60_000) }));
        NOW.fetch_add(60_001, Ordering::SeqCst);
        q.set_budget(&l, Some(Budget { rate: 3, window: Duration::from_secs(60) }));
        let s = take(&q).await.expect("the window moved on");
        assert_eq!(s.job, "j3");
    }

    #[tokio::test]
    async fn the_concurrency_cap_holds_and_lanes_take_turns() {
        let q = Queue::with_clock(2, clock);
        for i in 0..3 {
            q.push(&lane("a"), format!("a{i}"));
        }
        q.push(&lane("b"), "b0".into());
        let first = take(&q).await.unwrap();
        let second = take(&q).await.unwrap();
        assert_eq!((first.job.as_str(), second.job.as_str()), ("a0", "b0"), "round robin");
        assert!(take(&q).await.is_none(), "two permits only");
        drop(first);
        assert_eq!(take(&q).await.unwrap().job, "a1");
        assert!(q.remove(&lane("a"), "a2"));
        drop(second);
        assert!(take(&q).await.is_none(), "a removed job never starts");
    }

    #[tokio::test]
    async fn starts_before_a_restart_count() {
        let q = Queue::with_clock(4, clock);
        let l = lane("c");
        q.set_budget(&l, Some(Budget { rate: 1, window: Duration::from_secs(3600) }));
        q.record_start(&l, clock() - 1000);
        q.push(&l, "j".into());
        assert!(take(&q).await.is_none());
        assert_eq!(q.quota(&l).unwrap().remaining, 0);
    }
}
