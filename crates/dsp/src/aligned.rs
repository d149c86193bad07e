//! Buffers whose working part starts on a 64-byte boundary.

use std::ops::{Deref, DerefMut};

/// A fixed-length buffer of `T` whose elements start on a 64-byte boundary (a cache line
/// and an AVX-512 vector), so that vector loads and stores never straddle two lines;
/// the heap only promises 16 bytes. Dereferences to a slice; cloning aligns the copy.
///
/// ```
/// let mut a = aad_dsp::Aligned::<f64>::new(1000);
/// a[999] = 1.0;
/// assert_eq!(a.len(), 1000);
/// assert_eq!(a.as_ptr() as usize % 64, 0);
/// assert_eq!(a.iter().sum::<f64>(), 1.0);
/// ```
#[derive(Debug)]
pub struct Aligned<T> {
    buf: Vec<T>,
    off: usize,
    len: usize,
}

impl<T: Copy + Default> Aligned<T> {
    /// `len` default values (zeros).
    pub fn new(len: usize) -> Self {
        Self::filled(len, T::default())
    }

    /// `len` copies of `value`.
    pub fn filled(len: usize, value: T) -> Self {
        // Enough spare elements to reach the next boundary from any heap address.
        let slack = 64 / std::mem::size_of::<T>().max(1);
        let buf = vec![value; len + slack];
        let off = match buf.as_ptr().align_offset(64) {
            o if o <= slack => o,
            _ => 0,
        };
        Aligned { buf, off, len }
    }

    /// A copy of `values`.
    pub fn from_slice(values: &[T]) -> Self {
        let mut a = Self::new(values.len());
        a.copy_from_slice(values);
        a
    }
}

/// Empty, without allocating (for `std::mem::take`).
impl<T> Default for Aligned<T> {
    fn default() -> Self {
        Aligned {
            buf: Vec::new(),
            off: 0,
            len: 0,
        }
    }
}

impl<T: Copy + Default> Clone for Aligned<T> {
    fn clone(&self) -> Self {
        Self::from_slice(self)
    }
}

impl<T> Deref for Aligned<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.buf[self.off..self.off + self.len]
    }
}

impl<T> DerefMut for Aligned<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.buf[self.off..self.off + self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use realfft::num_complex::Complex;

    #[test]
    fn every_element_type_starts_on_a_cache_line_and_clones_keep_it() {
        for len in [0, 1, 7, 1025] {
            let a = Aligned::<f32>::filled(len, 2.0);
            let b = Aligned::<Complex<f64>>::new(len);
            let c = Aligned::<u8>::new(len);
            assert_eq!((a.len(), b.len(), c.len()), (len, len, len));
            assert!(a.iter().all(|&v| v == 2.0));
            let a2 = a.clone();
            assert_eq!(&a2[..], &a[..]);
            for p in [
                a.as_ptr() as usize,
                a2.as_ptr() as usize,
                b.as_ptr() as usize,
            ] {
                assert_eq!(p % 64, 0, "len {len}");
            }
            assert_eq!(c.as_ptr() as usize % 64, 0);
        }
    }
}
