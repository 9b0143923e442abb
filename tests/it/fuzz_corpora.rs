//! Replays the fuzz corpora (`tests/fixtures/fuzz/<target>/`: the minimised
//! corpus of each fuzz target and every crash input it found) through the
//! fuzz targets' own entry points (`dev/fuzz/src/entries.rs`, included
//! here), so a fixed crash stays fixed and CI fails on a regression. Each
//! input must end in a typed error or a success: no panic. See
//! `dev/fuzz/README.md` for running the fuzzers themselves.

#[path = "../../dev/fuzz/src/entries.rs"]
#[allow(dead_code)]
mod entries;

use crate::support::repo;

#[test]
fn every_fuzz_corpus_file_replays_without_a_panic() {
    let root = repo("tests/fixtures/fuzz");
    let mut total = 0;
    for (name, entry) in entries::TARGETS {
        let dir = root.join(name);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no corpus for fuzz target {name}");
        for f in &files {
            let data = std::fs::read(f).unwrap();
            let outcome = std::panic::catch_unwind(|| entry(&data));
            assert!(outcome.is_ok(), "{name}: {} panics", f.display());
        }
        total += files.len();
    }
    assert!(total > 0);
}
