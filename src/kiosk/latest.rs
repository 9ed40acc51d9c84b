//! "Newest value wins": a one-slot channel whose sender replaces a value nobody has taken
//! yet, so a slow consumer skips stale frames instead of falling behind.

use crossbeam_channel::{bounded, Receiver, Sender, TrySendError};

/// The sending side; keeps a receiver to take out the stale value.
#[derive(Clone)]
pub struct LatestSender<T> {
    tx: Sender<T>,
    rx: Receiver<T>,
}

/// A one-slot channel.
pub fn latest<T>() -> (LatestSender<T>, Receiver<T>) {
    let (tx, rx) = bounded(1);
    (LatestSender { tx, rx: rx.clone() }, rx)
}

impl<T> LatestSender<T> {
    /// Puts `value` in the slot, replacing any value not yet taken.
    pub fn send(&self, value: T) {
        let mut value = value;
        loop {
            match self.tx.try_send(value) {
                Ok(()) | Err(TrySendError::Disconnected(_)) => return,
                Err(TrySendError::Full(v)) => {
                    let _stale = self.rx.try_recv();
                    value = v;
                }
            }
        }
    }
}

/// The camera's newest picture, for whoever needs one now and then (the admin worker's
/// Capture): the capture thread puts each frame in; a reader gets the latest, shared.
#[derive(Clone, Default)]
pub struct NewestFrame(std::sync::Arc<std::sync::Mutex<Option<std::sync::Arc<opencv::core::Mat>>>>);

impl NewestFrame {
    pub fn put(&self, frame: std::sync::Arc<opencv::core::Mat>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(frame);
    }

    pub fn get(&self) -> Option<std::sync::Arc<opencv::core::Mat>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_value_replaces_an_untaken_one() {
        let (tx, rx) = latest();
        tx.send(1);
        tx.send(2);
        tx.send(3);
        assert_eq!(rx.try_recv().unwrap(), 3);
        assert!(rx.try_recv().is_err());
    }
}
