//! The recognition engines behind `rollcall serve`: one per core (each holds its own face
//! models; they share one gallery), lent to one request at a time, and the bounded queue
//! of marks waiting for one.

use crate::attendance::AttendanceService;
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// Engines lent to requests; a request waits while every engine is busy, and the requests
/// waiting are served in the order they came.
pub struct EnginePool<E = AttendanceService> {
    state: Mutex<Lending<E>>,
    size: usize,
}

struct Lending<E> {
    free: Vec<E>,
    /// The requests waiting, first come first: an engine returned is handed to the first.
    waiting: VecDeque<Arc<Handoff<E>>>,
}

/// Where a waiting request receives its engine.
struct Handoff<E> {
    engine: Mutex<Option<E>>,
    given: Condvar,
}

/// An engine on loan; it goes back to the pool when dropped (even after a panic).
pub struct Loan<'a, E = AttendanceService> {
    pool: &'a EnginePool<E>,
    service: Option<E>,
}

impl<E> EnginePool<E> {
    pub fn new(services: Vec<E>) -> EnginePool<E> {
        EnginePool {
            size: services.len(),
            state: Mutex::new(Lending {
                free: services,
                waiting: VecDeque::new(),
            }),
        }
    }

    /// How many engines there are.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Borrows an engine, waiting for one to be free and for the requests that came
    /// earlier to have theirs: an engine returned goes to the longest waiting, never to a
    /// request that came after it (which used to overtake, and made some marks wait several
    /// turns under load).
    pub fn borrow(&self) -> Loan<'_, E> {
        let handoff = {
            let mut state = self.lock();
            if let Some(service) = state.free.pop() {
                return Loan {
                    pool: self,
                    service: Some(service),
                };
            }
            let handoff = Arc::new(Handoff {
                engine: Mutex::new(None),
                given: Condvar::new(),
            });
            state.waiting.push_back(handoff.clone());
            handoff
        };
        let mut engine = recover(handoff.engine.lock());
        loop {
            if let Some(service) = engine.take() {
                return Loan {
                    pool: self,
                    service: Some(service),
                };
            }
            engine = recover(handoff.given.wait(engine));
        }
    }

    fn lock(&self) -> MutexGuard<'_, Lending<E>> {
        recover(self.state.lock())
    }
}

/// A lock's guard, also after a panic while it was held (the pool's state stays whole:
/// every change to it is a single push or pop).
fn recover<G>(r: Result<G, std::sync::PoisonError<G>>) -> G {
    r.unwrap_or_else(|p| p.into_inner())
}

impl<E> std::ops::Deref for Loan<'_, E> {
    type Target = E;
    fn deref(&self) -> &E {
        self.service.as_ref().expect("an engine on loan")
    }
}

impl<E> std::ops::DerefMut for Loan<'_, E> {
    fn deref_mut(&mut self) -> &mut E {
        self.service.as_mut().expect("an engine on loan")
    }
}

impl<E> Drop for Loan<'_, E> {
    fn drop(&mut self) {
        if let Some(service) = self.service.take() {
            let mut state = self.pool.lock();
            match state.waiting.pop_front() {
                Some(first) => {
                    *recover(first.engine.lock()) = Some(service);
                    first.given.notify_one();
                }
                None => state.free.push(service),
            }
        }
    }
}

/// How many engines to load: the setting, or one per core (at most 4; each holds its own
/// models, about 120 MB; the gallery is shared).
pub fn engine_count(setting: usize) -> usize {
    if setting > 0 {
        return setting;
    }
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Waits until `n` requests are waiting for an engine.
    fn until_waiting(pool: &EnginePool<u32>, n: u64) {
        while (pool.lock().waiting.len() as u64) < n {
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn waiting_requests_are_served_in_the_order_they_came() {
        let pool = Arc::new(EnginePool::new(vec![7u32]));
        let served = Arc::new(Mutex::new(Vec::new()));
        let held = pool.borrow();
        let mut waiting = Vec::new();
        for who in 0..4 {
            let (shared, served) = (pool.clone(), served.clone());
            waiting.push(std::thread::spawn(move || {
                let engine = shared.borrow();
                served.lock().unwrap().push(who);
                std::thread::sleep(Duration::from_millis(5));
                drop(engine);
            }));
            until_waiting(&pool, who as u64 + 1);
        }
        // Returned and asked for again at once: the four who waited come first, although
        // the engine is free the moment this asks.
        drop(held);
        let again = pool.borrow();
        served.lock().unwrap().push(99);
        assert_eq!(*again, 7);
        drop(again);
        for w in waiting {
            w.join().unwrap();
        }
        assert_eq!(*served.lock().unwrap(), [0, 1, 2, 3, 99]);
    }

    #[test]
    fn every_engine_is_lent_at_once_when_requests_wait() {
        let pool = Arc::new(EnginePool::new(vec![1u32, 2]));
        let (a, b) = (pool.borrow(), pool.borrow());
        assert_ne!(*a, *b);
        let p = pool.clone();
        let third = std::thread::spawn(move || *p.borrow());
        until_waiting(&pool, 1);
        let freed = *a;
        drop(a);
        assert_eq!(third.join().unwrap(), freed);
        drop(b);
        assert_eq!(pool.lock().free.len(), 2);
    }
}
