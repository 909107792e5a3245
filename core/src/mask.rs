//! XOR masking (RFC 6455 §5.3).
//!
//! Masking sits on the hot path of every client frame sent and every server frame
//! received, so it works on wide blocks: the 4-byte key is widened to a `u64` (rotated
//! to the current offset in the payload), and the payload is XORed 32 bytes per step
//! (four words, which the compiler turns into vector instructions); the tail goes a word,
//! then a byte, at a time. On x86-64 the same code is also compiled with AVX2 enabled and
//! picked at run time when the CPU has it (as glibc's `memcpy` does), since the portable
//! x86-64 baseline only has 16-byte vectors.
//!
//! Two forms:
//! - [`apply_mask`]: in place (received frames, whose bytes are already in our buffer);
//! - [`copy_masked`] / [`copy_masked_uninit`]: copy and mask in one pass (sent frames:
//!   the caller's payload must not be touched, so it is masked on its way into the
//!   transmit buffer, each byte read and written once).

use std::mem::MaybeUninit;

/// Below this many bytes the run-time CPU check is not worth its cost.
#[cfg(target_arch = "x86_64")]
const WIDE_MIN: usize = 256;

/// The key rotated to start at `offset` of its cycle, as a byte pattern and as the
/// 8-byte word of that pattern twice. On both byte orders the word is `rotated` twice in
/// memory, because its two halves are equal.
#[inline(always)]
fn widen(key: [u8; 4], offset: usize) -> ([u8; 4], u64) {
    let offset = offset & 3;
    let mut rotated = [0u8; 4];
    for (i, b) in rotated.iter_mut().enumerate() {
        *b = key[(offset + i) & 3];
    }
    let word = u64::from(u32::from_ne_bytes(rotated));
    (rotated, word << 32 | word)
}

#[inline(always)]
fn load8(b: &[u8]) -> u64 {
    let mut v = [0u8; 8];
    v.copy_from_slice(&b[..8]);
    u64::from_ne_bytes(v)
}

/// A destination byte: initialised (`u8`) or not (`MaybeUninit<u8>`). Writing either
/// is safe, so one kernel serves both.
trait Dst: Sized {
    fn put(dst: &mut [Self], v: &[u8]);
}

impl Dst for u8 {
    #[inline(always)]
    fn put(dst: &mut [u8], v: &[u8]) {
        dst.copy_from_slice(v);
    }
}

impl Dst for MaybeUninit<u8> {
    #[inline(always)]
    fn put(dst: &mut [MaybeUninit<u8>], v: &[u8]) {
        for (d, b) in dst.iter_mut().zip(v) {
            d.write(*b);
        }
    }
}

/// In place: 32 bytes per step, then words, then bytes.
#[inline(always)]
fn xor_in_place(buf: &mut [u8], rotated: [u8; 4], wide: u64) {
    let mut blocks = buf.chunks_exact_mut(32);
    for block in &mut blocks {
        let mut out = [0u8; 32];
        for (o, i) in out.chunks_exact_mut(8).zip(block.chunks_exact(8)) {
            o.copy_from_slice(&(load8(i) ^ wide).to_ne_bytes());
        }
        block.copy_from_slice(&out);
    }
    let rest = blocks.into_remainder();
    let mut words = rest.chunks_exact_mut(8);
    for w in &mut words {
        let x = load8(w) ^ wide;
        w.copy_from_slice(&x.to_ne_bytes());
    }
    for (i, b) in words.into_remainder().iter_mut().enumerate() {
        *b ^= rotated[i & 3];
    }
}

/// From `src` into `dst` (same length): 32 bytes per step, then words, then bytes.
#[inline(always)]
fn xor_copy<D: Dst>(dst: &mut [D], src: &[u8], rotated: [u8; 4], wide: u64) {
    let mut d_blocks = dst.chunks_exact_mut(32);
    let mut s_blocks = src.chunks_exact(32);
    for (d, s) in (&mut d_blocks).zip(&mut s_blocks) {
        let mut out = [0u8; 32];
        for (o, i) in out.chunks_exact_mut(8).zip(s.chunks_exact(8)) {
            o.copy_from_slice(&(load8(i) ^ wide).to_ne_bytes());
        }
        D::put(d, &out);
    }
    let (dst, src) = (d_blocks.into_remainder(), s_blocks.remainder());
    let mut d_words = dst.chunks_exact_mut(8);
    let mut s_words = src.chunks_exact(8);
    for (d, s) in (&mut d_words).zip(&mut s_words) {
        D::put(d, &(load8(s) ^ wide).to_ne_bytes());
    }
    for (i, (d, s)) in d_words.into_remainder().iter_mut().zip(s_words.remainder()).enumerate() {
        D::put(std::slice::from_mut(d), &[*s ^ rotated[i & 3]]);
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{xor_copy, xor_in_place, Dst};

    // The portable kernels, compiled with 32-byte vectors. Only called after
    // `is_x86_feature_detected!("avx2")` said yes.
    #[target_feature(enable = "avx2")]
    pub(super) fn in_place(buf: &mut [u8], rotated: [u8; 4], wide: u64) {
        xor_in_place(buf, rotated, wide)
    }

    #[target_feature(enable = "avx2")]
    pub(super) fn copy<D: Dst>(dst: &mut [D], src: &[u8], rotated: [u8; 4], wide: u64) {
        xor_copy(dst, src, rotated, wide)
    }
}

/// Whether the AVX2 kernels may run (cached by std after the first call).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn has_avx2() -> bool {
    std::arch::is_x86_feature_detected!("avx2")
}

/// XORs `buf` with `key`, starting at byte `offset` of the key's cycle, and returns the
/// offset at which a following chunk of the same payload continues.
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) -> usize {
    let (rotated, wide) = widen(key, offset);
    #[cfg(target_arch = "x86_64")]
    if buf.len() >= WIDE_MIN && has_avx2() {
        // The head up to a 32-byte boundary first, so that no 32-byte store of the
        // main loop straddles two cache lines.
        let head = buf.as_ptr().align_offset(32).min(buf.len());
        let (h, body) = buf.split_at_mut(head);
        xor_in_place(h, rotated, wide);
        let (rotated, wide) = widen(key, offset + head);
        // SAFETY: the CPU supports AVX2 (checked just above), which is the only
        // requirement of this `#[target_feature]` function; it is otherwise safe code.
        unsafe { avx2::in_place(body, rotated, wide) };
        return (offset + buf.len()) & 3;
    }
    xor_in_place(buf, rotated, wide);
    (offset + buf.len()) & 3
}

/// Copies `src` into `dst`, XORed with `key` from byte `offset` of the key's cycle, in
/// one pass; returns the offset at which a following chunk continues. `src` is left as
/// it is.
///
/// # Panics
/// If the two slices differ in length (as `copy_from_slice` does).
pub fn copy_masked(dst: &mut [u8], src: &[u8], key: [u8; 4], offset: usize) -> usize {
    assert_eq!(dst.len(), src.len(), "copy_masked: slices differ in length");
    copy_masked_into(dst, src, key, offset)
}

/// [`copy_masked`] into uninitialised memory (the spare capacity of a buffer): every
/// byte of `dst` is written, so afterwards all of it is initialised.
///
/// # Panics
/// If the two slices differ in length.
pub fn copy_masked_uninit(dst: &mut [MaybeUninit<u8>], src: &[u8], key: [u8; 4], offset: usize) -> usize {
    assert_eq!(dst.len(), src.len(), "copy_masked_uninit: slices differ in length");
    copy_masked_into(dst, src, key, offset)
}

/// The one pass behind [`copy_masked`] and [`copy_masked_uninit`]: a scalar head up to a
/// 32-byte boundary of `dst`, then AVX2 where the CPU has it, else word-wide XOR.
fn copy_masked_into<D: Dst>(dst: &mut [D], src: &[u8], key: [u8; 4], offset: usize) -> usize {
    let (rotated, wide) = widen(key, offset);
    #[cfg(target_arch = "x86_64")]
    if src.len() >= WIDE_MIN && has_avx2() {
        // The head up to a 32-byte boundary of the destination first (see apply_mask).
        let head = dst.as_ptr().align_offset(32).min(src.len());
        let (dh, dbody) = dst.split_at_mut(head);
        let (sh, sbody) = src.split_at(head);
        xor_copy(dh, sh, rotated, wide);
        let (rotated, wide) = widen(key, offset + head);
        // SAFETY: the CPU supports AVX2 (checked just above), which is the only
        // requirement of this `#[target_feature]` function; it is otherwise safe code.
        unsafe { avx2::copy(dbody, sbody, rotated, wide) };
        return (offset + src.len()) & 3;
    }
    xor_copy(dst, src, rotated, wide);
    (offset + src.len()) & 3
}

/// Appends `src` masked with `key` (from offset 0) to `buf`, in one pass: no zeroing of
/// the new bytes, no second pass over them.
pub(crate) fn extend_masked(buf: &mut bytes::BytesMut, src: &[u8], key: [u8; 4], offset: usize) -> usize {
    buf.reserve(src.len());
    let len = buf.len();
    let next = copy_masked_uninit(&mut buf.spare_capacity_mut()[..src.len()], src, key, offset);
    // SAFETY: `reserve` made room for `src.len()` more bytes, and `copy_masked_uninit`
    // initialised exactly the first `src.len()` bytes of the spare capacity (it writes
    // every byte of its destination, and panics before writing if the lengths differ).
    unsafe { buf.set_len(len + src.len()) };
    next
}

/// [`extend_masked`] for a `Vec`.
pub(crate) fn extend_masked_vec(buf: &mut Vec<u8>, src: &[u8], key: [u8; 4], offset: usize) -> usize {
    buf.reserve(src.len());
    let len = buf.len();
    let next = copy_masked_uninit(&mut buf.spare_capacity_mut()[..src.len()], src, key, offset);
    // SAFETY: as in `extend_masked`: room was reserved, and exactly the first
    // `src.len()` bytes of the spare capacity were initialised.
    unsafe { buf.set_len(len + src.len()) };
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, a byte at a time.
    fn naive(buf: &mut [u8], key: [u8; 4], offset: usize) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b ^= key[(offset + i) % 4];
        }
    }

    fn data(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|x| (x as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
    /// Start positions within a buffer, so every alignment of the slices is covered.
    const ALIGNS: usize = 32;

    #[test]
    fn apply_mask_matches_the_definition_for_every_length_alignment_and_offset() {
        let backing = data(300 + ALIGNS, 7);
        for len in 0..=300 {
            for align in 0..ALIGNS {
                for off in 0..4 {
                    let (mut a, mut b) = (backing.clone(), backing.clone());
                    let next = apply_mask(&mut a[align..align + len], KEY, off);
                    naive(&mut b[align..align + len], KEY, off);
                    assert_eq!(a, b, "len {len} align {align} off {off}");
                    assert_eq!(next, (off + len) % 4);
                }
            }
        }
    }

    #[test]
    fn copy_masked_matches_the_definition_for_every_length_and_alignment() {
        let src_backing = data(300 + ALIGNS, 3);
        for len in 0..=300 {
            for s_align in 0..ALIGNS {
                // Destination alignments independent of the source's.
                for d_align in [0, 1, 3, 7, 8, 15, 31] {
                    for off in 0..4 {
                        let src = &src_backing[s_align..s_align + len];
                        let mut want = src.to_vec();
                        naive(&mut want, KEY, off);
                        let mut dst = vec![0xAAu8; len + ALIGNS];
                        let next = copy_masked(&mut dst[d_align..d_align + len], src, KEY, off);
                        assert_eq!(
                            &dst[d_align..d_align + len],
                            &want[..],
                            "len {len} s {s_align} d {d_align}"
                        );
                        // Nothing outside the destination is written.
                        assert!(dst[..d_align].iter().all(|&b| b == 0xAA));
                        assert!(dst[d_align + len..].iter().all(|&b| b == 0xAA));
                        assert_eq!(next, (off + len) % 4);
                        assert_eq!(src, &src_backing[s_align..s_align + len], "source untouched");
                    }
                }
            }
        }
    }

    #[test]
    fn portable_kernels_match_the_definition_at_every_length() {
        // `apply_mask` / `copy_masked` pick the AVX2 build of these on CPUs that have it;
        // the portable build is checked here on its own, whatever this CPU has.
        let backing = data(300 + 8, 13);
        for len in 0..=300 {
            for align in 0..8 {
                for off in 0..4 {
                    let (rotated, wide) = widen(KEY, off);
                    let src = &backing[align..align + len];
                    let mut want = src.to_vec();
                    naive(&mut want, KEY, off);
                    let mut in_place = src.to_vec();
                    xor_in_place(&mut in_place, rotated, wide);
                    assert_eq!(in_place, want, "in place, len {len} align {align} off {off}");
                    let mut copied = vec![0u8; len];
                    xor_copy(&mut copied, src, rotated, wide);
                    assert_eq!(copied, want, "copy, len {len} align {align} off {off}");
                }
            }
        }
    }

    #[test]
    fn copy_masked_uninit_matches_copy_masked() {
        let src_backing = data(300 + ALIGNS, 11);
        for len in 0..=300 {
            for s_align in 0..8 {
                for d_align in 0..8 {
                    let src = &src_backing[s_align..s_align + len];
                    let mut want = src.to_vec();
                    naive(&mut want, KEY, 2);
                    let mut dst = vec![MaybeUninit::<u8>::uninit(); len + 8];
                    let next = copy_masked_uninit(&mut dst[d_align..d_align + len], src, KEY, 2);
                    // SAFETY: copy_masked_uninit initialised every byte of this range.
                    let got: Vec<u8> = dst[d_align..d_align + len]
                        .iter()
                        .map(|b| unsafe { b.assume_init() })
                        .collect();
                    assert_eq!(got, want, "len {len} s {s_align} d {d_align}");
                    assert_eq!(next, (2 + len) % 4);
                }
            }
        }
    }

    #[test]
    fn extend_masked_appends_masked_bytes_after_existing_ones() {
        for len in [0, 1, 5, 31, 32, 33, 127, 128, 129, 300, 5000] {
            let src = data(len, 5);
            let mut buf = bytes::BytesMut::from(&b"head"[..]);
            let next = extend_masked(&mut buf, &src, KEY, 1);
            let mut want = src.clone();
            naive(&mut want, KEY, 1);
            assert_eq!(&buf[..4], b"head");
            assert_eq!(&buf[4..], &want[..], "len {len}");
            assert_eq!(next, (1 + len) % 4);
            let mut v = b"head".to_vec();
            assert_eq!(extend_masked_vec(&mut v, &src, KEY, 1), next);
            assert_eq!(&v[..], &buf[..], "vec, len {len}");
        }
    }

    #[test]
    fn masking_twice_restores_the_input() {
        let orig = data(1000, 9);
        let mut a = orig.clone();
        apply_mask(&mut a, KEY, 0);
        assert_ne!(a, orig);
        let mut b = vec![0; a.len()];
        copy_masked(&mut b, &a, KEY, 0);
        assert_eq!(b, orig);
    }

    #[test]
    #[should_panic(expected = "differ in length")]
    fn copy_masked_refuses_slices_of_different_lengths() {
        copy_masked(&mut [0u8; 3], &[0u8; 4], KEY, 0);
    }

    #[test]
    fn rfc_example_hello() {
        // RFC 6455 §5.7: "Hello" masked with 37 fa 21 3d.
        let mut p = *b"Hello";
        apply_mask(&mut p, KEY, 0);
        assert_eq!(p, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
        let mut q = [0u8; 5];
        copy_masked(&mut q, b"Hello", KEY, 0);
        assert_eq!(q, p);
    }

    #[test]
    fn split_chunks_continue_the_cycle() {
        let key = [1, 2, 3, 4];
        let data: Vec<u8> = (0..1000).map(|x| x as u8).collect();
        let mut whole = data.clone();
        apply_mask(&mut whole, key, 0);
        for cut in [0, 1, 13, 130, 999, 1000] {
            let mut parts = data.clone();
            let (a, b) = parts.split_at_mut(cut);
            let off = apply_mask(a, key, 0);
            apply_mask(b, key, off);
            assert_eq!(whole, parts, "cut {cut}");
            let mut copied = vec![0; data.len()];
            let (da, db) = copied.split_at_mut(cut);
            let off = copy_masked(da, &data[..cut], key, 0);
            copy_masked(db, &data[cut..], key, off);
            assert_eq!(whole, copied, "copy, cut {cut}");
        }
    }
}
