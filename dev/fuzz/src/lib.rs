//! The fuzz targets' shared entry points (see `entries.rs`), and an
//! allocator that aborts on any single allocation over [`MAX_ALLOC`]: without
//! a sanitizer libFuzzer cannot see one huge allocation (a zeroed `Vec` is
//! not resident until touched), and an allocation sized by a field of the
//! input rather than by its length is a finding (issue 20, part 4).

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;

pub mod entries;

/// Largest single allocation a fuzz input may cause.
pub const MAX_ALLOC: usize = 128 * 1024 * 1024;

struct Capped;

// SAFETY: forwards to the system allocator unchanged; only refuses (by
// aborting) requests over the cap.
unsafe impl GlobalAlloc for Capped {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        check(layout.size());
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        check(layout.size());
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        check(new_size);
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

fn check(size: usize) {
    if size > MAX_ALLOC {
        let _ = std::io::stderr().write_all(b"==fuzz== allocation over MAX_ALLOC (128 MiB)\n");
        // Allocates (small), which is fine: this allocation has not started.
        let trace = std::backtrace::Backtrace::force_capture();
        let _ = writeln!(std::io::stderr(), "==fuzz== {size} bytes at\n{trace}");
        std::process::abort();
    }
}

#[global_allocator]
static ALLOC: Capped = Capped;
