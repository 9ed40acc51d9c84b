//! The recognition engines behind `rollcall serve`: one per core (each holds its own face
//! models; they share one gallery), lent to one request at a time, and the bounded queue
//! of marks waiting for one.

use crate::attendance::AttendanceService;
use std::sync::{Condvar, Mutex};

/// Engines lent to requests; a request waits while every engine is busy.
pub struct EnginePool {
    free: Mutex<Vec<AttendanceService>>,
    returned: Condvar,
    size: usize,
}

/// An engine on loan; it goes back to the pool when dropped (even after a panic).
pub struct Loan<'a> {
    pool: &'a EnginePool,
    service: Option<AttendanceService>,
}

impl EnginePool {
    pub fn new(services: Vec<AttendanceService>) -> EnginePool {
        EnginePool {
            size: services.len(),
            free: Mutex::new(services),
            returned: Condvar::new(),
        }
    }

    /// How many engines there are.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Borrows an engine, waiting for one to be free.
    pub fn borrow(&self) -> Loan<'_> {
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(service) = free.pop() {
                return Loan {
                    pool: self,
                    service: Some(service),
                };
            }
            free = self.returned.wait(free).unwrap_or_else(|p| p.into_inner());
        }
    }
}

impl std::ops::Deref for Loan<'_> {
    type Target = AttendanceService;
    fn deref(&self) -> &AttendanceService {
        self.service.as_ref().expect("an engine on loan")
    }
}

impl std::ops::DerefMut for Loan<'_> {
    fn deref_mut(&mut self) -> &mut AttendanceService {
        self.service.as_mut().expect("an engine on loan")
    }
}

impl Drop for Loan<'_> {
    fn drop(&mut self) {
        if let Some(service) = self.service.take() {
            let mut free = self.pool.free.lock().unwrap_or_else(|p| p.into_inner());
            free.push(service);
            self.pool.returned.notify_one();
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
