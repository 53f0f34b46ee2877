//! Runtime CPU-feature dispatch for hot kernels: the same Rust body compiled twice, once for the
//! baseline target and once with AVX2+FMA enabled, chosen once per process. Rust never fuses a
//! multiply and an add on its own, so both versions give bit-identical results.

use std::sync::atomic::{AtomicU8, Ordering};

static AVX2: AtomicU8 = AtomicU8::new(0);

/// True when the CPU supports AVX2 and FMA (cached after the first call).
#[inline]
pub fn has_avx2() -> bool {
    match AVX2.load(Ordering::Relaxed) {
        1 => true,
        2 => false,
        _ => {
            #[cfg(target_arch = "x86_64")]
            let yes = std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma");
            #[cfg(not(target_arch = "x86_64"))]
            let yes = false;
            AVX2.store(if yes { 1 } else { 2 }, Ordering::Relaxed);
            yes
        }
    }
}

/// `dispatch_avx2!(body(args…))` calls `body` compiled with AVX2 when available, else as is.
/// `body` (and everything it calls in the hot path) must be `#[inline(always)]`.
#[macro_export]
macro_rules! dispatch_avx2 {
    ($body:ident ( $($arg:expr),* $(,)? )) => {{
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx2,fma")]
            unsafe fn __avx2<F: FnOnce() -> R, R>(f: F) -> R { f() }
            if $crate::simd::has_avx2() {
                // SAFETY: the CPU supports avx2+fma (checked above); the closure is inlined into
                // the target_feature function so its body is compiled with those features.
                unsafe { __avx2(#[inline(always)] || $body($($arg),*)) }
            } else {
                $body($($arg),*)
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        { $body($($arg),*) }
    }};
}
pub(crate) use dispatch_avx2 as dispatch;
