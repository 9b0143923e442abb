//! Where the models directory is.

use std::path::{Path, PathBuf};

use super::manifest::MANIFEST_FILE;
use super::ModelError;

/// Environment variable that overrides the models directory.
pub const MODELS_DIR_ENV: &str = "VIGIL_MODELS";

/// Where an installed package keeps the models (see `cross/README.md`).
pub const INSTALLED_MODELS_DIR: &str = "/usr/share/vigil/models";

/// Picks the models directory: the configured one if set, else `$VIGIL_MODELS`,
/// else the first of [`search_dirs`] that holds a manifest file.
pub fn resolve_dir(configured: Option<&Path>) -> Result<PathBuf, ModelError> {
    if let Some(dir) = configured {
        return Ok(dir.to_path_buf());
    }
    if let Some(env) = std::env::var_os(MODELS_DIR_ENV) {
        return Ok(PathBuf::from(env));
    }
    let exe = std::env::current_exe().ok();
    let candidates = search_dirs(exe.as_deref());
    if let Some(found) = candidates.iter().find(|c| c.join(MANIFEST_FILE).is_file()) {
        return Ok(found.clone());
    }
    Err(ModelError::NoModelsDir {
        tried: candidates
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        env: MODELS_DIR_ENV,
    })
}

/// The models directories tried in order (after `$VIGIL_MODELS`) by a binary
/// at `exe`: `./models` (a checkout), `<prefix>/share/vigil/models` for a
/// binary in `<prefix>/bin` (an installed or unpacked package), then the
/// installed location. (The build machine's source tree is not searched: a
/// release binary must not depend on where it was built.)
pub fn search_dirs(exe: Option<&Path>) -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from("models")];
    if let Some(prefix) = exe.and_then(Path::parent).and_then(Path::parent) {
        dirs.push(prefix.join("share/vigil/models"));
    }
    let installed = PathBuf::from(INSTALLED_MODELS_DIR);
    if !dirs.contains(&installed) {
        dirs.push(installed);
    }
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installed_and_unpacked_layouts_find_share() {
        let installed = search_dirs(Some(Path::new("/usr/bin/vigil")));
        assert_eq!(installed[0], PathBuf::from("models"));
        assert_eq!(installed[1], PathBuf::from(INSTALLED_MODELS_DIR));
        assert_eq!(installed.len(), 2, "{installed:?}");
        // An unpacked .deb (dpkg-deb -x pkg.deb ROOT) uses its own models first.
        let unpacked = search_dirs(Some(Path::new("/tmp/root/usr/bin/vigil")));
        assert_eq!(
            &unpacked[..3],
            &[
                PathBuf::from("models"),
                PathBuf::from("/tmp/root/usr/share/vigil/models"),
                PathBuf::from(INSTALLED_MODELS_DIR)
            ]
        );
        let local = search_dirs(Some(Path::new("/usr/local/bin/vigil")));
        assert_eq!(local[1], PathBuf::from("/usr/local/share/vigil/models"));
        // No build-machine path: nothing absolute that the binary's location
        // or the installed layout does not explain.
        let none = search_dirs(None);
        assert_eq!(
            none,
            vec![PathBuf::from("models"), PathBuf::from(INSTALLED_MODELS_DIR)]
        );
    }
}
