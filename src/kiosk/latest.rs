//! "Newest value wins": a one-slot channel whose sender replaces a value nobody has taken
//! yet, so a slow consumer skips stale frames instead of falling behind.

use crossbeam_channel::{bounded, Receiver, Sender, TrySendError};
use opencv::core::Mat;
use std::sync::Arc;
use std::time::{Duration, Instant};

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
/// Capture): the capture thread puts each frame in; a reader gets the latest, shared —
/// while it is the camera's picture of now. A camera unplugged, stuck or in use elsewhere
/// leaves its last picture on screen, perhaps of whoever stood there before: a photo
/// captured from it would enrol the wrong face.
#[derive(Clone, Default)]
pub struct NewestFrame(Arc<std::sync::Mutex<Option<Stamped>>>);

/// A frame and when it was read.
type Stamped = (Arc<Mat>, Instant);

/// How old the newest picture may be and still be taken (the slowest source played here
/// sends one every half second).
const FRESH: Duration = Duration::from_secs(2);

impl NewestFrame {
    /// Puts in the frame read at `captured`.
    pub fn put(&self, frame: Arc<Mat>, captured: Instant) {
        *self.lock() = Some((frame, captured));
    }

    /// The source stopped sending (lost, ended, switched): no picture until the next.
    pub fn clear(&self) {
        *self.lock() = None;
    }

    /// The newest picture, unless none came in the last two seconds.
    pub fn get(&self) -> Option<Arc<Mat>> {
        let newest = self.lock();
        let (frame, captured) = newest.as_ref()?;
        (captured.elapsed() <= FRESH).then(|| frame.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Stamped>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
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

    #[test]
    fn the_newest_frame_is_taken_only_while_it_is_the_picture_of_now() {
        let newest = NewestFrame::default();
        assert!(newest.get().is_none());
        let frame = Arc::new(Mat::default());
        newest.put(frame.clone(), Instant::now());
        assert!(newest.get().is_some_and(|f| Arc::ptr_eq(&f, &frame)));
        newest.clear();
        assert!(newest.get().is_none(), "the source stopped");
        let before = Instant::now().checked_sub(FRESH + Duration::from_millis(100));
        newest.put(frame, before.unwrap());
        assert!(newest.get().is_none(), "a camera that stopped sending");
    }
}
