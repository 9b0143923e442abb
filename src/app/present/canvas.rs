//! A 0RGB pixel buffer with the few drawing primitives the overlay needs.
//! The window only displays it, so tests can check pixels without a display.

use font8x8::UnicodeFonts;
use image::RgbImage;

/// A colour as 0x00RRGGBB (minifb's layout).
pub type Colour = u32;

/// Face boxes and track labels.
pub const GREEN: Colour = 0x0000_d060;
/// Locked, unknown, spoof, alert banners.
pub const RED: Colour = 0x00e0_3030;
/// Scene and mood lines, the top emotion bar.
pub const YELLOW: Colour = 0x00f0_d020;
/// Landmarks and attention figures.
pub const CYAN: Colour = 0x0020_d0f0;
/// Text on dark panels.
pub const WHITE: Colour = 0x00ff_ffff;
/// Background of a new canvas.
pub const BLACK: Colour = 0x0000_0000;
/// Side of one glyph of the built-in 8x8 font.
pub const GLYPH: usize = 8;

/// A colour from its red, green and blue bytes.
pub const fn rgb(r: u8, g: u8, b: u8) -> Colour {
    ((r as u32) << 16) | ((g as u32) << 8) | b as u32
}

#[derive(Debug, Clone, PartialEq)]
/// A picture being drawn: `width * height` pixels, row by row.
pub struct Canvas {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// The pixels, row-major, 0x00RRGGBB.
    pub pixels: Vec<Colour>,
}

impl Canvas {
    /// A black canvas.
    pub fn new(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            pixels: vec![BLACK; width * height],
        }
    }

    /// Copies `image` into a canvas scaled by an integer factor (nearest neighbour).
    pub fn from_image(image: &RgbImage, scale: usize) -> Self {
        let scale = scale.max(1);
        let (w, h) = (image.width() as usize, image.height() as usize);
        let mut c = Self::new(w * scale, h * scale);
        for (y, row) in image.rows().enumerate() {
            for (x, px) in row.enumerate() {
                let colour = rgb(px.0[0], px.0[1], px.0[2]);
                for dy in 0..scale {
                    let start = (y * scale + dy) * c.width + x * scale;
                    c.pixels[start..start + scale].fill(colour);
                }
            }
        }
        c
    }

    /// The pixel at (x, y); `None` outside the canvas.
    pub fn get(&self, x: i64, y: i64) -> Option<Colour> {
        if x < 0 || y < 0 || x >= self.width as i64 || y >= self.height as i64 {
            return None;
        }
        Some(self.pixels[y as usize * self.width + x as usize])
    }

    /// Sets the pixel at (x, y); outside the canvas nothing happens.
    pub fn put(&mut self, x: i64, y: i64, colour: Colour) {
        if x >= 0 && y >= 0 && (x as usize) < self.width && (y as usize) < self.height {
            self.pixels[y as usize * self.width + x as usize] = colour;
        }
    }

    /// Blends `colour` over the pixel with opacity `alpha` in [0, 1].
    pub fn blend(&mut self, x: i64, y: i64, colour: Colour, alpha: f32) {
        let Some(old) = self.get(x, y) else { return };
        let mix = |shift: u32| {
            let a = ((old >> shift) & 0xff) as f32;
            let b = ((colour >> shift) & 0xff) as f32;
            ((a + (b - a) * alpha).round() as u32).min(255) << shift
        };
        self.put(x, y, mix(16) | mix(8) | mix(0));
    }

    /// Outline of the rectangle with corners `(x1, y1)`..`(x2, y2)`, `thickness` pixels inward.
    pub fn rect(&mut self, x1: i64, y1: i64, x2: i64, y2: i64, thickness: i64, colour: Colour) {
        for t in 0..thickness.max(1) {
            let (l, r, top, bot) = (x1 + t, x2 - t, y1 + t, y2 - t);
            if l > r || top > bot {
                break;
            }
            for x in l..=r {
                self.put(x, top, colour);
                self.put(x, bot, colour);
            }
            for y in top..=bot {
                self.put(l, y, colour);
                self.put(r, y, colour);
            }
        }
    }

    /// Filled rectangle, blended with opacity `alpha`.
    pub fn fill(&mut self, x1: i64, y1: i64, x2: i64, y2: i64, colour: Colour, alpha: f32) {
        let (x1, x2) = (x1.max(0), x2.min(self.width as i64 - 1));
        let (y1, y2) = (y1.max(0), y2.min(self.height as i64 - 1));
        for y in y1..=y2 {
            for x in x1..=x2 {
                if alpha >= 1.0 {
                    self.put(x, y, colour);
                } else {
                    self.blend(x, y, colour, alpha);
                }
            }
        }
    }

    /// A filled square dot of side `2 * radius + 1`.
    pub fn dot(&mut self, x: i64, y: i64, radius: i64, colour: Colour) {
        self.fill(x - radius, y - radius, x + radius, y + radius, colour, 1.0);
    }

    /// Text in the built-in 8x8 font, `scale` pixels per font pixel; returns its width.
    pub fn text(&mut self, x: i64, y: i64, text: &str, scale: i64, colour: Colour) -> i64 {
        let scale = scale.max(1);
        let mut cx = x;
        for ch in text.chars() {
            let glyph = font8x8::BASIC_FONTS
                .get(ch)
                .or_else(|| font8x8::BASIC_FONTS.get('?'))
                .unwrap_or([0; 8]);
            for (row, bits) in glyph.iter().enumerate() {
                for col in 0..GLYPH {
                    if bits & (1 << col) != 0 {
                        let px = cx + col as i64 * scale;
                        let py = y + row as i64 * scale;
                        self.fill(px, py, px + scale - 1, py + scale - 1, colour, 1.0);
                    }
                }
            }
            cx += GLYPH as i64 * scale;
        }
        cx - x
    }

    /// Text on a dark translucent background, for legibility on any frame.
    pub fn label(&mut self, x: i64, y: i64, text: &str, colour: Colour) {
        let w = (text.chars().count() * GLYPH) as i64;
        self.fill(x - 2, y - 2, x + w + 1, y + GLYPH as i64 + 1, BLACK, 0.6);
        self.text(x, y, text, 1, colour);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rect_draws_its_outline_only() {
        let mut c = Canvas::new(20, 20);
        c.rect(2, 3, 10, 12, 1, RED);
        assert_eq!(c.get(2, 3), Some(RED));
        assert_eq!(c.get(10, 12), Some(RED));
        assert_eq!(c.get(6, 3), Some(RED));
        assert_eq!(c.get(6, 7), Some(BLACK));
    }

    #[test]
    fn drawing_off_canvas_is_clipped_not_a_panic() {
        let mut c = Canvas::new(4, 4);
        c.rect(-10, -10, 100, 100, 3, RED);
        c.text(-5, 2, "Hi", 2, WHITE);
        c.fill(-3, -3, 50, 50, GREEN, 0.5);
        assert_eq!(c.pixels.len(), 16);
    }

    #[test]
    fn text_sets_pixels() {
        let mut c = Canvas::new(40, 10);
        let w = c.text(0, 0, "AB", 1, WHITE);
        assert_eq!(w, 16);
        assert!(c.pixels.contains(&WHITE));
    }

    #[test]
    fn from_image_scales() {
        let img = RgbImage::from_pixel(3, 2, image::Rgb([1, 2, 3]));
        let c = Canvas::from_image(&img, 2);
        assert_eq!((c.width, c.height), (6, 4));
        assert!(c.pixels.iter().all(|p| *p == rgb(1, 2, 3)));
    }
}
