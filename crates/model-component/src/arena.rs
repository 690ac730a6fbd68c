//! The allocator of a model component (wasm32-unknown-unknown only): a call's allocations come
//! from a 32 KiB arena in the component's static data, handed out by a bump pointer that goes
//! back to the start when the last live arena allocation is freed (after each call's
//! post-return frees its results); whatever does not fit goes to Rust's default allocator
//! (dlmalloc, which grows memory).
//!
//! Why: Spin and wasmtime create a fresh instance of every model for every request, and the
//! cost of an instance is what it does to its linear memory. dlmalloc grows memory on the first
//! allocation, which the runtime then has to map, fault in and shrink back at the next
//! instantiation; with the arena (and a 16 KiB stack, `.cargo/config.toml`) one prediction
//! never leaves the one initial 64 KiB page. Measured in docs/design/model-wiring.md
//! ("mini" models) and docs/performance.md.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;

const ARENA_BYTES: usize = 32 * 1024;

#[repr(C, align(16))]
struct Bytes([u8; ARENA_BYTES]);

struct Arena {
    bytes: UnsafeCell<Bytes>,
    /// Offset of the first free byte.
    next: UnsafeCell<usize>,
    /// Arena allocations not yet freed.
    live: UnsafeCell<usize>,
}

// SAFETY: a core WebAssembly module without the threads proposal runs on one thread; nothing
// else can reach the cells.
unsafe impl Sync for Arena {}

#[global_allocator]
static ARENA: Arena = Arena {
    bytes: UnsafeCell::new(Bytes([0; ARENA_BYTES])),
    next: UnsafeCell::new(0),
    live: UnsafeCell::new(0),
};

impl Arena {
    fn contains(&self, ptr: *mut u8) -> bool {
        let base = self.bytes.get() as usize;
        (base..base + ARENA_BYTES).contains(&(ptr as usize))
    }
}

// SAFETY: every pointer handed out is either a block of the arena no live allocation overlaps
// (the bump pointer only moves forwards until every block is freed) and aligned as the layout
// asks, or the system allocator's; `dealloc` gives each back to where it came from.
unsafe impl GlobalAlloc for Arena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let base = self.bytes.get() as usize;
        // SAFETY: one thread (see `Sync` above); no reference to the cells outlives this call.
        unsafe {
            let start = (base + *self.next.get() + layout.align() - 1) & !(layout.align() - 1);
            if start + layout.size() <= base + ARENA_BYTES {
                *self.next.get() = start + layout.size() - base;
                *self.live.get() += 1;
                return start as *mut u8;
            }
            System.alloc(layout)
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as in `alloc`; `ptr` came from `alloc` with this layout (GlobalAlloc's
        // contract), so it is the arena's exactly when it lies inside it.
        unsafe {
            if self.contains(ptr) {
                *self.live.get() -= 1;
                if *self.live.get() == 0 {
                    *self.next.get() = 0;
                }
            } else {
                System.dealloc(ptr, layout)
            }
        }
    }
}
