//! The allocator's part in giving memory back: worker threads hand their cached free memory
//! to jemalloc's shared arenas whenever they go idle.
//!
//! jemalloc keeps a cache of freed objects per thread for fast reuse. A tokio worker that
//! goes quiet after 100k session actors passivated never reuses them, and the slabs those
//! objects sit in cannot go back to the OS: RSS stayed tens of MB above its baseline
//! (BENCHMARKS.md, "Memory"). Flushing at park costs nothing under load, where workers
//! rarely park, and the arenas' background purge then returns the emptied pages.

/// Flushes the calling thread's jemalloc cache. For `on_thread_park` of a tokio runtime.
pub fn flush_thread_cache() {
    // SAFETY: "thread.tcache.flush" is a void mallctl: the name is NUL-terminated and it
    // neither reads nor writes a value, so every pointer is null and the length zero. It
    // fails harmlessly (and is ignored) when the thread has no cache.
    unsafe {
        tikv_jemalloc_sys::mallctl(
            c"thread.tcache.flush".as_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        );
    }
}
