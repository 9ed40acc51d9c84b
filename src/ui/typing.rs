//! Keys typed faster than the window draws.
//!
//! egui moves the keyboard focus on Tab at the end of a frame, so whatever is typed in the
//! same frame after a Tab still goes into the field being left. A quick typist on a kiosk
//! whose two cores are busy with the camera did exactly that: "R-102", Tab, "Wang Lei"
//! gave "R-102W" and "ang Lei" (and an email address that still looked valid). The events
//! after a Tab wait for the next frame, when the focus has moved.

/// Input events held back for the next frame.
#[derive(Debug, Default)]
pub struct TypingPace {
    held: Vec<egui::Event>,
}

impl TypingPace {
    /// Ends this frame's events at the first Tab pressed; the ones after it wait for the
    /// next frame (before that frame's own events). True while some wait: the window must
    /// draw another frame for them.
    pub fn pace(&mut self, input: &mut egui::RawInput) -> bool {
        if !self.held.is_empty() {
            let mut events = std::mem::take(&mut self.held);
            events.append(&mut input.events);
            input.events = events;
        }
        if let Some(tab) = input.events.iter().position(moves_focus) {
            self.held = input.events.split_off(tab + 1);
        }
        !self.held.is_empty()
    }
}

/// A key press that moves the keyboard focus to another widget.
fn moves_focus(event: &egui::Event) -> bool {
    matches!(
        event,
        egui::Event::Key {
            key: egui::Key::Tab,
            pressed: true,
            ..
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui::{Event, Key, Modifiers, RawInput};

    fn tab(pressed: bool, modifiers: Modifiers) -> Event {
        Event::Key {
            key: Key::Tab,
            physical_key: None,
            pressed,
            repeat: false,
            modifiers,
        }
    }

    fn text(s: &str) -> Event {
        Event::Text(s.into())
    }

    fn frame(pace: &mut TypingPace, events: Vec<Event>) -> (Vec<Event>, bool) {
        let mut input = RawInput {
            events,
            ..Default::default()
        };
        let more = pace.pace(&mut input);
        (input.events, more)
    }

    #[test]
    fn what_follows_a_tab_waits_one_frame_per_tab() {
        let mut pace = TypingPace::default();
        let shift = Modifiers::SHIFT;
        let typed = vec![
            text("R-102"),
            tab(true, Modifiers::NONE),
            tab(false, Modifiers::NONE),
            text("Wang Lei"),
            tab(true, shift),
            text("x"),
        ];
        let (first, more) = frame(&mut pace, typed);
        assert_eq!(first, vec![text("R-102"), tab(true, Modifiers::NONE)]);
        assert!(more);
        // The next frame starts with what waited, then its own events.
        let (second, more) = frame(&mut pace, vec![text("y")]);
        assert_eq!(
            second,
            vec![
                tab(false, Modifiers::NONE),
                text("Wang Lei"),
                tab(true, shift)
            ]
        );
        assert!(more);
        let (third, more) = frame(&mut pace, vec![]);
        assert_eq!(third, vec![text("x"), text("y")]);
        assert!(!more);
    }

    #[test]
    fn a_frame_without_a_tab_or_ending_with_one_is_untouched() {
        let mut pace = TypingPace::default();
        let (events, more) = frame(&mut pace, vec![text("abc"), tab(false, Modifiers::NONE)]);
        assert_eq!(events, vec![text("abc"), tab(false, Modifiers::NONE)]);
        assert!(!more);
        let (events, more) = frame(&mut pace, vec![text("abc"), tab(true, Modifiers::NONE)]);
        assert_eq!(events.len(), 2);
        assert!(!more);
    }
}
