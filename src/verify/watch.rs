//! Picking up a gallery changed on disk while the stage runs (an enrolment
//! through the running instance, `vigil enroll --remove`, a restored backup).
//!
//! The stage asks [`GalleryWatch::poll`] on every frame; at most every
//! [`crate::core::filewatch::FILE_CHECK_INTERVAL`] it looks whether the file
//! was replaced, and reloads it through the same integrity checks as at
//! start. A file that fails them means nobody is enrolled until it is fixed
//! (fail closed).

use super::gallery::{Gallery, GalleryError, GalleryStore};
use crate::core::filewatch::FileWatch;

/// Watches one gallery file for the stage.
#[derive(Debug)]
pub struct GalleryWatch {
    store: GalleryStore,
    model_sha256: String,
    file: FileWatch,
}

impl GalleryWatch {
    /// Watches `store`'s file; the stage loads it first with [`Self::load`].
    pub fn new(store: GalleryStore, model_sha256: &str) -> Self {
        Self {
            file: FileWatch::new(&store.path),
            store,
            model_sha256: model_sha256.to_string(),
        }
    }

    /// Loads the gallery now and remembers which file version that was.
    pub fn load(&mut self) -> Result<Gallery, GalleryError> {
        self.file.mark_loaded();
        self.store.load(&self.model_sha256)
    }

    /// `Some(result of a reload)` when the file changed since the last load,
    /// else `None`.
    pub fn poll(&mut self) -> Option<Result<Gallery, GalleryError>> {
        self.file.changed().then(|| self.load())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::embed::Embedding;
    use crate::verify::gallery::test_template;

    const SHA: &str = "0123456789abcdef";

    fn template(x: f32) -> crate::verify::gallery::Template {
        let mut v = vec![0.0; 128];
        v[0] = x;
        v[1] = 1.0;
        test_template(Embedding::new(v).unwrap())
    }

    #[test]
    fn a_saved_change_is_reloaded_once_and_a_corrupt_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = GalleryStore::new(dir.path().join("g.json"), dir.path().join("key"));
        let mut w = GalleryWatch::new(store.clone(), SHA);
        assert!(matches!(w.load(), Err(GalleryError::Missing { .. })));
        w.file.check_now();
        assert!(w.poll().is_none(), "still no file: nothing to reload");

        let mut g = Gallery::empty(SHA);
        g.add("owner", vec![template(0.0)], 0).unwrap();
        store.save(&g).unwrap();
        w.file.check_now();
        let reloaded = w.poll().expect("changed").unwrap();
        assert!(reloaded.person("owner").is_some());
        w.file.check_now();
        assert!(w.poll().is_none(), "unchanged since the reload");

        std::fs::write(&store.path, b"{ torn").unwrap();
        w.file.check_now();
        assert!(matches!(w.poll(), Some(Err(GalleryError::Corrupt { .. }))));
    }
}
