//! The overlay window (minifb). Opened lazily on the first frame, so a run
//! that fails before any frame (no camera) never flashes a window.

use super::canvas::Canvas;
use super::error::{PresentError as Error, Result};

/// Window title.
pub const TITLE: &str = "Vigil";

/// The overlay window, opened on the first frame shown.
#[cfg(feature = "window")]
pub struct OverlayWindow {
    window: Option<minifb::Window>,
}

#[cfg(feature = "window")]
impl OverlayWindow {
    /// A window not opened yet.
    pub fn new() -> Self {
        Self { window: None }
    }

    /// Shows `canvas`; returns false once the user closed the window (or pressed Esc).
    pub fn show(&mut self, canvas: &Canvas) -> Result<bool> {
        let resize = self
            .window
            .as_ref()
            .map(|w| w.get_size() != (canvas.width, canvas.height))
            .unwrap_or(true);
        if resize {
            let mut w = minifb::Window::new(
                TITLE,
                canvas.width,
                canvas.height,
                minifb::WindowOptions::default(),
            )
            .map_err(|e| {
                Error::Display(format!(
                    "cannot open a window ({e}); use --headless on a machine without a display"
                ))
            })?;
            w.set_target_fps(0);
            self.window = Some(w);
        }
        let Some(w) = self.window.as_mut() else {
            return Ok(false);
        };
        w.update_with_buffer(&canvas.pixels, canvas.width, canvas.height)
            .map_err(|e| Error::Display(e.to_string()))?;
        Ok(w.is_open() && !w.is_key_down(minifb::Key::Escape))
    }

    /// Processes window events without a new frame; false once closed.
    pub fn pump(&mut self) -> bool {
        match self.window.as_mut() {
            Some(w) => {
                w.update();
                w.is_open() && !w.is_key_down(minifb::Key::Escape)
            }
            None => true,
        }
    }
}

#[cfg(feature = "window")]
impl Default for OverlayWindow {
    fn default() -> Self {
        Self::new()
    }
}

/// No window in this build (`--no-default-features`): showing is an error.
#[cfg(not(feature = "window"))]
pub struct OverlayWindow;

#[cfg(not(feature = "window"))]
impl OverlayWindow {
    /// The stand-in.
    pub fn new() -> Self {
        Self
    }

    /// Always an error: this build cannot open a window.
    pub fn show(&mut self, _canvas: &Canvas) -> Result<bool> {
        Err(Error::Display(
            "this build has no window support (built without the `window` feature); use --headless"
                .into(),
        ))
    }

    /// Nothing to pump: the (absent) window is never closed.
    pub fn pump(&mut self) -> bool {
        true
    }
}
