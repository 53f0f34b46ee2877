//! The barrier that ends every chip step between workers.

use std::sync::atomic::{AtomicUsize, Ordering};

/// A reusable spinning barrier (sense-reversing), cheaper than a mutex barrier for the ~µs
/// steps of the simulation.
pub(super) struct SpinBarrier {
    pub(super) n: usize,
    pub(super) count: AtomicUsize,
    pub(super) generation: AtomicUsize,
}

impl SpinBarrier {
    pub(super) fn new(n: usize) -> Self {
        SpinBarrier {
            n,
            count: AtomicUsize::new(0),
            generation: AtomicUsize::new(0),
        }
    }

    pub(super) fn wait(&self) {
        let gen = self.generation.load(Ordering::Acquire);
        if self.count.fetch_add(1, Ordering::AcqRel) + 1 == self.n {
            self.count.store(0, Ordering::Relaxed);
            self.generation.fetch_add(1, Ordering::AcqRel);
        } else {
            let mut spins = 0u32;
            while self.generation.load(Ordering::Acquire) == gen {
                spins += 1;
                if spins < 2000 {
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
        }
    }
}
