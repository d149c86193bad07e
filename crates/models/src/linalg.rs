//! f32 matrix products for the native autoencoder engine: one thread, or two row blocks,
//! the second on a spinning helper thread ([`HelperThread`], [`join`]), or row blocks on
//! rayon's threads for more than two.
//!
//! Training the DCASE 2020 autoencoder is ~383 GFLOP per epoch on 270k vectors, almost
//! all of it in three matrix products per layer. Measured on our 2-core AMD EPYC
//! (single thread, the autoencoder's shapes): the `gemm` crate (candle's own CPU backend)
//! runs at ~133 GFLOPS, `matrixmultiply` through ndarray at ~110, and Keras needs
//! 3.65 s/epoch, so only `gemm` leaves room to be faster. Its API takes raw pointers;
//! this module is the one place that calls it, behind a safe function that checks every
//! index the product touches.
#![allow(unsafe_code)]

use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};

/// A row-major or column-major view of an `rows x cols` matrix inside a slice.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mat<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    /// Element step between consecutive rows.
    pub rs: usize,
    /// Element step between consecutive columns.
    pub cs: usize,
}

impl<'a> Mat<'a> {
    /// A row-major `rows x cols` matrix.
    pub(crate) fn rows(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Mat {
            data,
            rows,
            cols,
            rs: cols,
            cs: 1,
        }
    }

    /// The transpose (no copy).
    pub(crate) fn t(self) -> Self {
        Mat {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
        }
    }

    /// Largest element index touched, plus one.
    fn extent(&self) -> usize {
        if self.rows == 0 || self.cols == 0 {
            0
        } else {
            (self.rows - 1) * self.rs + (self.cols - 1) * self.cs + 1
        }
    }
}

/// `c = alpha * a * b + beta * c` with `c` row-major `a.rows x b.cols` (`beta = 0`
/// ignores the old contents of `c`).
///
/// # Panics
/// When the shapes disagree or a view reaches past its slice (programming errors: every
/// caller passes buffers it sized itself).
pub(crate) fn gemm(c: &mut [f32], a: Mat<'_>, b: Mat<'_>, alpha: f32, beta: f32) {
    let threads = threads();
    let (m, k, n) = (a.rows, a.cols, b.cols);
    if threads > 1 && m >= 2 * MIN_SPLIT_ROWS && m * k * n >= MIN_SPLIT_WORK {
        gemm_split_rows(c, a, b, alpha, beta, threads);
    } else {
        gemm_one(c, a, b, alpha, beta);
    }
}

/// Smallest share of rows worth a thread of its own.
const MIN_SPLIT_ROWS: usize = 32;
/// Smallest product (multiply-adds) worth splitting: below it a fork costs more than it
/// saves.
const MIN_SPLIT_WORK: usize = 1 << 20;

/// `gemm` on up to `threads` disjoint row blocks of `c` in parallel. Every element of `c`
/// is the same dot product over `k` as on one thread, so results do not depend on the
/// thread count. Measured on two cores: a 512 x 640 x 128 product 1.6-1.7x; `gemm`'s own
/// `Parallelism::Rayon` made the DCASE autoencoder's epoch no faster (0.96x, median of 8).
fn gemm_split_rows(c: &mut [f32], a: Mat<'_>, b: Mat<'_>, alpha: f32, beta: f32, threads: usize) {
    let (m, n) = (a.rows, b.cols);
    let parts = threads.min(m / MIN_SPLIT_ROWS).max(1);
    let per = m.div_ceil(parts);
    let block_of = |i: usize, block: &mut [f32]| {
        let rows = block.len() / n;
        let a_rows = Mat {
            data: &a.data[i * per * a.rs..],
            rows,
            ..a
        };
        gemm_one(block, a_rows, b, alpha, beta);
    };
    if parts == 2 {
        let (top, bottom) = c[..m * n].split_at_mut(per * n);
        join(|| block_of(0, top), || block_of(1, bottom));
        return;
    }
    use rayon::prelude::*;
    c[..m * n]
        .par_chunks_mut(per * n)
        .enumerate()
        .for_each(|(i, block)| block_of(i, block));
}

fn gemm_one(c: &mut [f32], a: Mat<'_>, b: Mat<'_>, alpha: f32, beta: f32) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert_eq!(b.rows, k, "inner dimensions differ");
    assert!(c.len() >= m * n, "output too small");
    assert!(
        a.extent() <= a.data.len() && b.extent() <= b.data.len(),
        "view past its slice"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        c[..m * n].iter_mut().for_each(|v| *v *= beta);
        return;
    }
    // SAFETY: `gemm::gemm` reads `a` at `i * rs + j * cs` for i < m, j < k, reads `b`
    // likewise for i < k, j < n, and reads/writes `c` at `i * n + j` for i < m, j < n.
    // The assertions above bound all of these by the slice lengths; `c` is a unique
    // borrow, so it aliases neither input; strides fit in `isize` because they index
    // existing slices. With more than one thread gemm splits `c` into disjoint blocks.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            beta != 0.0,
            a.data.as_ptr(),
            a.cs as isize,
            a.rs as isize,
            b.data.as_ptr(),
            b.cs as isize,
            b.rs as isize,
            beta,
            alpha,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: Mat<'_>, b: Mat<'_>) -> Vec<f32> {
        let mut c = vec![0.0; a.rows * b.cols];
        for i in 0..a.rows {
            for j in 0..b.cols {
                let mut s = 0.0f64;
                for p in 0..a.cols {
                    s += f64::from(a.data[i * a.rs + p * a.cs])
                        * f64::from(b.data[p * b.rs + j * b.cs]);
                }
                c[i * b.cols + j] = s as f32;
            }
        }
        c
    }

    #[test]
    fn row_blocks_on_several_threads_give_bit_identical_products() {
        // An autoencoder layer's shapes: a batch of 300 rows, 160 -> 128.
        let (m, k, n) = (300, 160, 128);
        let a: Vec<f32> = (0..m * k)
            .map(|i| ((i * 37) % 101) as f32 * 0.01 - 0.5)
            .collect();
        let b: Vec<f32> = (0..k * n)
            .map(|i| ((i * 53) % 97) as f32 * 0.02 - 1.0)
            .collect();
        let bt: Vec<f32> = (0..n * k).map(|i| b[(i % k) * n + i / k]).collect();
        let at: Vec<f32> = (0..k * m).map(|i| a[(i % m) * k + i / m]).collect();
        for (aa, bb) in [
            (Mat::rows(&a, m, k), Mat::rows(&b, k, n)),
            (Mat::rows(&at, k, m).t(), Mat::rows(&bt, n, k).t()),
        ] {
            let run = |threads: usize| {
                set_threads(threads);
                let mut c = vec![0.5; m * n];
                gemm(&mut c, aa, bb, 0.7, 0.3);
                set_threads(1);
                c
            };
            let one = run(1);
            assert_eq!(run(2), one);
            assert_eq!(run(3), one);
            let want = naive(aa, bb);
            assert!((one[7] - (0.7 * want[7] + 0.3 * 0.5)).abs() < 1e-3);
        }
    }

    #[test]
    fn the_helper_runs_the_second_half_and_nested_joins_in_order() {
        let helper = HelperThread::start().unwrap();
        let here = std::thread::current().id();
        let (mut a, mut b, inner) = (None, None, std::sync::Mutex::new(Vec::new()));
        helper.run(|| {
            assert_eq!(threads(), 2);
            join(
                || {
                    a = Some(std::thread::current().id());
                    join(
                        || inner.lock().unwrap().push(1),
                        || inner.lock().unwrap().push(2),
                    );
                },
                || b = Some(std::thread::current().id()),
            );
        });
        assert_eq!(a, Some(here));
        assert!(
            b.is_some_and(|b| b != here),
            "the second half ran on the caller"
        );
        assert_eq!(*inner.lock().unwrap(), [1, 2]);
        assert_eq!(threads(), 1);
        // Many short jobs in a row, as a training step posts them.
        let mut sums = [0u64; 2];
        helper.run(|| {
            for i in 0..10_000u64 {
                let (x, y) = sums.split_at_mut(1);
                join(|| x[0] += i, || y[0] += 2 * i);
            }
        });
        assert_eq!(sums, [49_995_000, 99_990_000]);
    }

    #[test]
    fn a_panic_on_either_side_reaches_the_caller_after_both_halves_ended() {
        let helper = HelperThread::start().unwrap();
        let done = std::sync::atomic::AtomicBool::new(false);
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            helper.run(|| {
                join(
                    || panic!("first half"),
                    || {
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        done.store(true, Ordering::SeqCst);
                    },
                )
            })
        }));
        assert!(caught.is_err());
        assert!(
            done.load(Ordering::SeqCst),
            "returned before the helper's half ended"
        );
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            helper.run(|| join(|| (), || panic!("second half")))
        }));
        assert!(caught.is_err());
    }

    #[test]
    fn matches_a_naive_product_for_every_transpose_combination() {
        let (m, k, n) = (7, 13, 5);
        let a: Vec<f32> = (0..m * k).map(|i| (i % 11) as f32 * 0.3 - 1.0).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i % 7) as f32 * 0.2 - 0.5).collect();
        let at: Vec<f32> = (0..k * m).map(|i| a[(i % m) * k + i / m]).collect();
        let bt: Vec<f32> = (0..n * k).map(|i| b[(i % k) * n + i / k]).collect();
        let am = Mat::rows(&a, m, k);
        let bm = Mat::rows(&b, k, n);
        let want = naive(am, bm);
        for (aa, bb) in [
            (am, bm),
            (Mat::rows(&at, k, m).t(), bm),
            (am, Mat::rows(&bt, n, k).t()),
            (Mat::rows(&at, k, m).t(), Mat::rows(&bt, n, k).t()),
        ] {
            let mut c = vec![1.0; m * n];
            gemm(&mut c, aa, bb, 1.0, 0.0);
            for (x, y) in c.iter().zip(&want) {
                assert!((x - y).abs() < 1e-4, "{x} vs {y}");
            }
        }
        // beta = 1 accumulates.
        let mut c = want.clone();
        gemm(&mut c, am, bm, 1.0, 1.0);
        assert!((c[3] - 2.0 * want[3]).abs() < 1e-4);
    }
}

thread_local! {
    static THREADS: std::cell::Cell<usize> = const { std::cell::Cell::new(1) };
}

/// Threads the products on this thread may use (1 = none spawned).
pub(crate) fn set_threads(n: usize) {
    THREADS.with(|t| t.set(n.max(1)));
}

/// Threads the products on this thread may use; more than 1 only on the workers of the
/// autoencoder's own pool, so a fork never lands in the caller's pool.
pub(crate) fn threads() -> usize {
    THREADS.with(|t| t.get())
}

/// The second thread of the autoencoder's two-thread training, which waits for work by
/// spinning instead of sleeping: a product takes 50-300 us, and waking a sleeping rayon
/// worker for each of the ~30 products of a step cost about 12 % of the cycles
/// (scheduler wake-ups, measured with `perf`). It spins for a while after each job, then
/// yields, then naps, so an idle phase (validation, scoring) does not hold a core.
pub(crate) struct Helper {
    /// Jobs posted so far; the helper runs job `posted` when it moves past `taken`.
    posted: AtomicUsize,
    finished: AtomicUsize,
    job: AtomicPtr<()>,
    stop: AtomicBool,
    panicked: AtomicBool,
}

/// The job the helper runs: a type-erased `&mut dyn FnMut()` on the poster's stack.
type JobRef<'a> = &'a mut (dyn FnMut() + Send);

impl Helper {
    fn new() -> Self {
        Helper {
            posted: AtomicUsize::new(0),
            finished: AtomicUsize::new(0),
            job: AtomicPtr::new(std::ptr::null_mut()),
            stop: AtomicBool::new(false),
            panicked: AtomicBool::new(false),
        }
    }

    /// The helper thread's loop: run each posted job, until [`Helper::stop`].
    fn serve(&self) {
        let mut taken = 0;
        let mut idle = 0u32;
        loop {
            let posted = self.posted.load(Ordering::Acquire);
            if posted != taken {
                taken = posted;
                idle = 0;
                let job = self.job.load(Ordering::Acquire).cast::<JobRef<'_>>();
                // SAFETY: `join` stored a pointer to a `JobRef` that lives on its stack
                // until it has seen `finished == posted`, which is only stored below,
                // after the job returned; no other thread touches the job meanwhile.
                let run =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe { (**job)() }));
                if run.is_err() {
                    self.panicked.store(true, Ordering::Release);
                }
                self.finished.store(taken, Ordering::Release);
                continue;
            }
            if self.stop.load(Ordering::Acquire) {
                return;
            }
            idle = idle.saturating_add(1);
            match idle {
                0..=20_000 => std::hint::spin_loop(),
                20_001..=40_000 => std::thread::yield_now(),
                _ => std::thread::sleep(std::time::Duration::from_micros(100)),
            }
        }
    }

    /// Runs `a` here and `b` on the helper; returns when both have.
    fn join(&self, a: impl FnOnce(), b: impl FnOnce() + Send) {
        let mut b = Some(b);
        let mut call = || {
            if let Some(b) = b.take() {
                b();
            }
        };
        let mut job: JobRef<'_> = &mut call;
        self.job
            .store(std::ptr::from_mut(&mut job).cast(), Ordering::Release);
        let ticket = self.posted.fetch_add(1, Ordering::AcqRel) + 1;
        // The helper may be reading this stack frame: wait for it even if `a` panics.
        let here = std::panic::catch_unwind(std::panic::AssertUnwindSafe(a));
        while self.finished.load(Ordering::Acquire) != ticket {
            std::hint::spin_loop();
        }
        if let Err(p) = here {
            std::panic::resume_unwind(p);
        }
        assert!(
            !self.panicked.load(Ordering::Acquire),
            "a job on the autoencoder's helper thread panicked"
        );
    }
}

thread_local! {
    static HELPER: std::cell::Cell<*const Helper> = const { std::cell::Cell::new(std::ptr::null()) };
    /// Whether this thread is inside a [`join`] on the helper.
    static IN_JOIN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A started [`Helper`] thread, stopped and joined on drop.
///
/// Not `Sync`: the helper runs one job at a time through one job pointer, so two threads
/// calling [`run`](Self::run) on one helper would race on it. The type system, not only
/// the crate's privacy, keeps a `HelperThread` on the thread that started it or moves it
/// whole (`Send`).
pub(crate) struct HelperThread {
    helper: std::sync::Arc<Helper>,
    thread: Option<std::thread::JoinHandle<()>>,
    _not_sync: std::marker::PhantomData<std::cell::Cell<()>>,
}

impl HelperThread {
    /// Starts the helper thread.
    ///
    /// # Errors
    /// The OS refused a thread.
    pub(crate) fn start() -> std::io::Result<Self> {
        let helper = std::sync::Arc::new(Helper::new());
        let theirs = std::sync::Arc::clone(&helper);
        let thread = std::thread::Builder::new()
            .name("aad-ae-helper".into())
            .spawn(move || theirs.serve())?;
        Ok(HelperThread {
            helper,
            thread: Some(thread),
            _not_sync: std::marker::PhantomData,
        })
    }

    /// Runs `f` on this thread with the helper: inside it, [`join`] (and so every split
    /// product) runs its second half there, and [`threads`] is 2.
    pub(crate) fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        let before = HELPER.with(|h| h.replace(std::sync::Arc::as_ptr(&self.helper)));
        let threads_before = threads();
        set_threads(2);
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        set_threads(threads_before);
        HELPER.with(|h| h.set(before));
        out.unwrap_or_else(|p| std::panic::resume_unwind(p))
    }
}

impl Drop for HelperThread {
    fn drop(&mut self) {
        self.helper.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            // A panic on the helper was already reported by the `join` that saw it.
            let _ = t.join();
        }
    }
}

/// `a` and `b` in parallel: on the helper of [`HelperThread::run`] when there is one,
/// else on rayon.
pub(crate) fn join(a: impl FnOnce() + Send, b: impl FnOnce() + Send) {
    let helper = HELPER.with(|h| h.get());
    if helper.is_null() {
        rayon::join(a, b);
        return;
    }
    if IN_JOIN.with(|j| j.replace(true)) {
        // The helper runs one job at a time: a join inside a join runs here, in order.
        a();
        b();
        return;
    }
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            IN_JOIN.with(|j| j.set(false));
        }
    }
    let _leave = Leave;
    // SAFETY: the pointer is set only inside `HelperThread::run`, on this thread, to the
    // helper its `HelperThread` owns, which outlives the call to `f` during which this
    // code runs.
    unsafe { &*helper }.join(a, b);
}
