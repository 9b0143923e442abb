//! The people in the gallery: listed and removed the same way by
//! `vigil enroll --list/--remove`, the HTTP API and the control socket.

use serde::{Deserialize, Serialize};

use super::EnrolError;
use crate::models::ModelStore;
use crate::verify::gallery::{validate_name, GalleryError, GalleryStore};
use crate::verify::{EmbeddingModel, StatePaths};

/// One enrolled person (no biometric data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonInfo {
    /// The name.
    pub name: String,
    /// Templates kept for them.
    pub templates: usize,
    /// When they were first enrolled, Unix seconds.
    pub enrolled_unix_s: u64,
}

/// The gallery of `paths` for the configured embedding model.
fn store(
    store: &ModelStore,
    paths: &StatePaths,
    model: EmbeddingModel,
) -> Result<(GalleryStore, String), EnrolError> {
    let sha = store.read_verified(model.spec().file)?.sha256;
    Ok((GalleryStore::new(&paths.gallery, &paths.key), sha))
}

/// Everyone enrolled; nobody when there is no gallery yet.
pub fn list(
    models: &ModelStore,
    paths: &StatePaths,
    model: EmbeddingModel,
) -> Result<Vec<PersonInfo>, EnrolError> {
    let (gallery_store, sha) = store(models, paths, model)?;
    let gallery = match gallery_store.load(&sha) {
        Ok(g) => g,
        Err(GalleryError::Missing { .. }) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    Ok(gallery
        .people
        .iter()
        .map(|p| PersonInfo {
            name: p.name.clone(),
            templates: p.templates.len(),
            enrolled_unix_s: p.created_unix_s,
        })
        .collect())
}

/// Removes `name` from the gallery (rewritten atomically); returns what was
/// removed.
pub fn remove(
    models: &ModelStore,
    paths: &StatePaths,
    model: EmbeddingModel,
    name: &str,
) -> Result<PersonInfo, EnrolError> {
    validate_name(name)?;
    let (gallery_store, sha) = store(models, paths, model)?;
    let mut gallery = gallery_store.load(&sha)?;
    let p = gallery.remove(name)?;
    gallery_store.save(&gallery)?;
    Ok(PersonInfo {
        name: p.name,
        templates: p.templates.len(),
        enrolled_unix_s: p.created_unix_s,
    })
}
