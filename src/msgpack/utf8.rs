//! UTF-8 checks tuned for the envelope's short strings.

use crate::error::DecodeError;

/// True if every byte of a short slice (under 64 bytes) is ASCII: a fixed
/// set of word loads for each size class, the second half overlapping the
/// first, so there is no loop to run.
#[inline(always)]
fn is_ascii_short(b: &[u8]) -> bool {
    const HI: u64 = 0x8080_8080_8080_8080;
    let n = b.len();
    let w = |i: usize| -> u64 {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[i..i + 8]);
        u64::from_le_bytes(a)
    };
    let acc = if n > 32 {
        // 33..=63: 32 bytes from the front, 32 from the back.
        w(0) | w(8) | w(16) | w(24) | w(n - 32) | w(n - 24) | w(n - 16) | w(n - 8)
    } else if n > 16 {
        w(0) | w(8) | w(n - 16) | w(n - 8)
    } else if n >= 8 {
        w(0) | w(n - 8)
    } else if n >= 4 {
        let h = |i: usize| -> u64 {
            let mut a = [0u8; 4];
            a.copy_from_slice(&b[i..i + 4]);
            u32::from_le_bytes(a) as u64
        };
        h(0) | h(n - 4)
    } else {
        return b.iter().all(|&c| c < 0x80);
    };
    acc & HI == 0
}

/// The slice as a str if it is short and ASCII (the envelope's usual
/// strings: names, uuids, cids, keys); `None` sends the caller to [`utf8`].
#[inline(always)]
pub(crate) fn ascii_str(b: &[u8]) -> Option<&str> {
    if b.len() < 64 && is_ascii_short(b) {
        // SAFETY: every byte is ASCII, and ASCII is valid UTF-8.
        #[allow(unsafe_code)]
        return Some(unsafe { std::str::from_utf8_unchecked(b) });
    }
    None
}

/// UTF-8 validation: a word-at-a-time ASCII check for the short strings
/// that make up most of an envelope (inlined), SIMD for long ones; the
/// slower standard check runs only to word an error.
#[inline(always)]
pub(crate) fn utf8(b: &[u8], at: usize) -> Result<&str, DecodeError> {
    match ascii_str(b) {
        Some(s) => Ok(s),
        None => utf8_long(b, at),
    }
}

#[inline(never)]
fn utf8_long(b: &[u8], at: usize) -> Result<&str, DecodeError> {
    match simdutf8::basic::from_utf8(b) {
        Ok(s) => Ok(s),
        Err(_) => match std::str::from_utf8(b) {
            Ok(s) => Ok(s),
            Err(e) => Err(DecodeError::utf8(b, e, at)),
        },
    }
}

/// True if `b` is valid UTF-8 (the fast checks of [`utf8`], no error).
#[inline]
pub(crate) fn is_utf8(b: &[u8]) -> bool {
    ascii_str(b).is_some() || simdutf8::basic::from_utf8(b).is_ok()
}
