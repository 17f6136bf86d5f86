//! msgspec's checks of the *str forms* of the standard-library types it
//! decodes from a msgpack str (strict mode): `datetime.datetime`,
//! `datetime.date`, `datetime.time` (RFC 3339), `datetime.timedelta`
//! (ISO 8601 durations), `uuid.UUID` (and its 16-byte bin form) and
//! `decimal.Decimal`.
//!
//! Each function answers what msgspec 0.22 answers for the same input: `Ok`
//! when it builds the value, otherwise its error text without the
//! `` - at `$...` `` path suffix. The datetime, duration and UUID parsers are
//! ports of msgspec's C parsers (`ms_decode_datetime_from_str`,
//! `ms_decode_timedelta`, `ms_decode_uuid_from_str`), quirks included; the
//! decimal check reproduces what CPython's `decimal.Decimal(str)` (libmpdec
//! under the default context) accepts, since msgspec only calls it.
//!
//! Everything works on bounded reads (`get`, checked slices) and saturating
//! or explicitly wrapping arithmetic, so no input panics. The verdicts are
//! pinned by the msgspec-decided corpus `fixtures/vectors/str-forms.json`
//! (generator: `conformance/tools/gen_form_cases.py`).

/// Whether a parsed `datetime`/`time` carries a UTC offset. msgspec checks
/// `tz=True`/`tz=False` constraints after parsing; that check is the
/// caller's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tz {
    /// No offset: a naive value.
    Naive,
    /// `Z`/`z` or a `±HH[:]MM` offset (`-00:00` included): an aware value.
    Aware,
}

/// msgspec's error for a str that is not an RFC 3339 datetime.
pub(crate) const INVALID_DATETIME: &str = "Invalid RFC3339 encoded datetime";
/// msgspec's error for a str that is not an RFC 3339 date.
pub(crate) const INVALID_DATE: &str = "Invalid RFC3339 encoded date";
/// msgspec's error for a str that is not an RFC 3339 time.
pub(crate) const INVALID_TIME: &str = "Invalid RFC3339 encoded time";
/// msgspec's error for a str that is not an ISO 8601 duration.
pub(crate) const INVALID_DURATION: &str = "Invalid ISO8601 duration";
/// msgspec's error for a duration outside `timedelta`'s range.
pub(crate) const DURATION_OUT_OF_RANGE: &str = "Duration is out of range";
/// msgspec's error for the relative units `Y`, `M` (before `T`) and `W`.
pub(crate) const DURATION_UNITS: &str =
    "Only units 'D', 'H', 'M', and 'S' are supported when parsing ISO8601 durations";
/// Stands for a Python `OverflowError` (not a `ValidationError`): msgspec
/// 0.22's day count wraps for days values between about 1.07e14 and 2^47
/// (its `int64` sum overflows), and `timedelta` then refuses the wrapped day
/// count. Its exact message is [`duration_overflow_message`]'s.
pub(crate) const DURATION_OVERFLOW: &str = "OverflowError: timedelta days out of range";
/// msgspec's error for a str that is not a UUID.
pub(crate) const INVALID_UUID: &str = "Invalid UUID";
/// msgspec's error for a bin that is not 16 bytes long.
pub(crate) const INVALID_UUID_BYTES: &str = "Invalid UUID bytes";
/// msgspec's error for a str `decimal.Decimal` refuses.
pub(crate) const INVALID_DECIMAL: &str = "Invalid decimal string";

// ---------------------------------------------------------------- RFC 3339

/// Reads `width` ASCII digits at `pos` (msgspec's `ms_read_fixint`).
fn fixint(s: &[u8], pos: usize, width: usize) -> Option<u32> {
    let digits = s.get(pos..pos.checked_add(width)?)?;
    digits.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

fn is_leap_year(year: u32) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

/// Days in `month` (1..=12) of `year`.
fn days_in_month(year: u32, month: u32) -> u32 {
    const NDAYS: [u32; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if month == 2 && is_leap_year(year) {
        29
    } else {
        NDAYS
            .get((month as usize).wrapping_sub(1))
            .copied()
            .unwrap_or(0)
    }
}

/// What follows the seconds of a time: the fraction and the offset.
struct Tail {
    /// The fraction had a 7th digit of 5 or more: add one microsecond.
    round_up: bool,
    tz: Tz,
}

/// Parses the part after `HH:MM:SS` from `pos` the way msgspec does:
/// `.` and at least one digit (the first six kept, the seventh rounding,
/// any number more skipped), then nothing, `Z`/`z`, or `±HH[:]MM` with
/// `HH <= 23`, `MM <= 59`. Like msgspec's C reader, a NUL character reads
/// as the end of the string, so anything after a NUL is ignored.
fn time_tail(s: &[u8], mut pos: usize) -> Option<Tail> {
    let mut next = || match s.get(pos) {
        Some(&c) => {
            pos += 1;
            c
        }
        None => 0,
    };
    let mut c = next();
    let mut round_up = false;
    if c == b'.' {
        let mut ndigits = 0;
        loop {
            if ndigits == 6 {
                c = next();
                if c.is_ascii_digit() {
                    round_up = c >= b'5';
                    loop {
                        c = next();
                        if !c.is_ascii_digit() {
                            break;
                        }
                    }
                }
                break;
            }
            c = next();
            if !c.is_ascii_digit() {
                break;
            }
            ndigits += 1;
        }
        if ndigits == 0 {
            return None;
        }
    }
    if c == 0 {
        return Some(Tail {
            round_up,
            tz: Tz::Naive,
        });
    }
    if c == b'Z' || c == b'z' {
        return (pos == s.len()).then_some(Tail {
            round_up,
            tz: Tz::Aware,
        });
    }
    if c != b'+' && c != b'-' {
        return None;
    }
    if s.len().checked_sub(pos)? < 3 {
        return None;
    }
    let offset_hour = fixint(s, pos, 2)?;
    pos += 2;
    if s.get(pos) == Some(&b':') {
        pos += 1;
    }
    if s.len().checked_sub(pos)? != 2 {
        return None;
    }
    let offset_min = fixint(s, pos, 2)?;
    (offset_hour <= 23 && offset_min <= 59).then_some(Tail {
        round_up,
        tz: Tz::Aware,
    })
}

/// Parses `HH:MM:SS` at `pos` (fields unchecked).
fn hms(s: &[u8], pos: usize) -> Option<(u32, u32, u32)> {
    let hour = fixint(s, pos, 2)?;
    (s.get(pos + 2) == Some(&b':')).then_some(())?;
    let minute = fixint(s, pos + 3, 2)?;
    (s.get(pos + 5) == Some(&b':')).then_some(())?;
    let second = fixint(s, pos + 6, 2)?;
    Some((hour, minute, second))
}

/// Parses `YYYY-MM-DD` at the start (fields unchecked).
fn ymd(s: &[u8]) -> Option<(u32, u32, u32)> {
    let year = fixint(s, 0, 4)?;
    (s.get(4) == Some(&b'-')).then_some(())?;
    let month = fixint(s, 5, 2)?;
    (s.get(7) == Some(&b'-')).then_some(())?;
    let day = fixint(s, 8, 2)?;
    Some((year, month, day))
}

fn valid_date(year: u32, month: u32, day: u32) -> bool {
    year != 0 && (1..=12).contains(&month) && day != 0 && day <= days_in_month(year, month)
}

/// Checks a msgpack str against `datetime.datetime` (msgspec's
/// `ms_decode_datetime_from_str`): `YYYY-MM-DD`, a `T`/`t`/space separator,
/// `HH:MM:SS`, an optional fraction of any length rounded to the
/// microsecond, and an optional `Z`/`z`/`±HH[:]MM` offset. A round-up may
/// carry into the next day, month or year; carrying past 9999-12-31 fails.
/// Returns whether the value is aware; a `tz` constraint is the caller's.
pub(crate) fn datetime(s: &[u8]) -> Result<Tz, &'static str> {
    parse_datetime(s).ok_or(INVALID_DATETIME)
}

fn parse_datetime(s: &[u8]) -> Option<Tz> {
    if s.len() < 19 {
        return None;
    }
    let (year, month, day) = ymd(s)?;
    if !matches!(s.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let (hour, minute, second) = hms(s, 11)?;
    let tail = time_tail(s, 19)?;
    if !valid_date(year, month, day) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    // The microseconds never matter except for a round-up that carries
    // through the whole time of day: 23:59:59.999999 plus one.
    if tail.round_up && (hour, minute, second) == (23, 59, 59) && micros_all_nines(s) {
        let last_of_year = month == 12 && day == 31;
        if last_of_year && year == 9999 {
            return None;
        }
    }
    Some(tail.tz)
}

/// Whether the six kept fraction digits (right after the seconds at byte
/// 19 of a datetime) are all `9`, i.e. a round-up carries into the
/// seconds.
fn micros_all_nines(s: &[u8]) -> bool {
    s.get(20..26).is_some_and(|d| d.iter().all(|&c| c == b'9'))
}

/// Checks a msgpack str against `datetime.date` (msgspec's
/// `ms_decode_date`): exactly `YYYY-MM-DD`, a real calendar day, year >= 1.
pub(crate) fn date(s: &[u8]) -> Result<(), &'static str> {
    let ok = s.len() == 10 && ymd(s).is_some_and(|(y, m, d)| valid_date(y, m, d));
    if ok {
        Ok(())
    } else {
        Err(INVALID_DATE)
    }
}

/// Checks a msgpack str against `datetime.time` (msgspec's
/// `ms_decode_time`): `HH:MM:SS`, an optional fraction (rounded to the
/// microsecond; 23:59:59.9999995 wraps to midnight) and an optional offset.
/// Returns whether the value is aware.
pub(crate) fn time(s: &[u8]) -> Result<Tz, &'static str> {
    if s.len() < 8 {
        return Err(INVALID_TIME);
    }
    let parsed = hms(s, 0).zip(time_tail(s, 8));
    match parsed {
        Some(((hour, minute, second), tail)) if hour <= 23 && minute <= 59 && second <= 59 => {
            Ok(tail.tz)
        }
        _ => Err(INVALID_TIME),
    }
}

// ---------------------------------------------------------------- ISO 8601

/// `timedelta.max` in seconds (999999999 days, 86399 s).
const TIMEDELTA_MAX_SECONDS: i64 = 86_399_999_999_999;
/// `timedelta.min` in seconds (-999999999 days).
const TIMEDELTA_MIN_SECONDS: i64 = -86_399_999_913_600;

/// How a duration fails, in msgspec's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DurationError {
    Invalid,
    OutOfRange,
    Units,
    /// `timedelta` raised `OverflowError` for this (wrapped) day count.
    Overflow(i32),
}

/// Checks a msgpack str against `datetime.timedelta` (msgspec's
/// `ms_decode_timedelta`): `[-+]P[nD][T[nH][nM][nS]]`, case-insensitive,
/// units in order, at least one, a fraction only on the last, `Y`/`W` and a
/// date-part `M` refused with [`DURATION_UNITS`], integral parts above 2^47
/// and totals outside `timedelta`'s range refused with
/// [`DURATION_OUT_OF_RANGE`]. msgspec's day total is an `int64` sum that
/// can wrap for day counts near 2^47: such inputs are accepted (a garbage
/// value) or fail with an `OverflowError`, both reproduced
/// ([`DURATION_OVERFLOW`]).
pub(crate) fn duration(s: &[u8]) -> Result<(), &'static str> {
    parse_duration(s).map_err(|e| match e {
        DurationError::Invalid => INVALID_DURATION,
        DurationError::OutOfRange => DURATION_OUT_OF_RANGE,
        DurationError::Units => DURATION_UNITS,
        DurationError::Overflow(_) => DURATION_OVERFLOW,
    })
}

/// The text of the `OverflowError` Python raises for `s` when
/// [`duration`] answers [`DURATION_OVERFLOW`], else `None`.
pub(crate) fn duration_overflow_message(s: &[u8]) -> Option<String> {
    match parse_duration(s) {
        Err(DurationError::Overflow(days)) => {
            Some(format!("days={days}; must have magnitude <= 999999999"))
        }
        _ => None,
    }
}

/// The parse states of `ms_decode_timedelta`, in order.
const START: u8 = 0;
const STATE_D: u8 = 1;
const STATE_T: u8 = 2;
const STATE_H: u8 = 3;
const STATE_M: u8 = 4;
const STATE_S: u8 = 5;

fn parse_duration(s: &[u8]) -> Result<(), DurationError> {
    use DurationError::{Invalid, OutOfRange, Units};
    let end = s.len();
    let at = |p: usize| s.get(p).copied().unwrap_or(0);
    let mut p = 0;
    let mut neg = false;
    match s.first() {
        None => return Err(Invalid),
        Some(b'-') => {
            neg = true;
            p += 1;
        }
        Some(b'+') => p += 1,
        _ => {}
    }
    if p == end || !matches!(at(p), b'P' | b'p') {
        return Err(Invalid);
    }
    p += 1;
    if p == end {
        return Err(Invalid);
    }
    let mut seconds: i64 = 0;
    let mut micros: i64 = 0;
    let mut state = START;
    loop {
        if p == end {
            return Err(Invalid);
        }
        if matches!(at(p), b'T' | b't') {
            if state >= STATE_T {
                return Err(Invalid);
            }
            state = STATE_T;
            p += 1;
            continue;
        }
        if !at(p).is_ascii_digit() {
            return Err(Invalid);
        }
        let mut x = u64::from(at(p) - b'0');
        p += 1;
        loop {
            if p == end {
                return Err(Invalid);
            }
            let c = at(p);
            if !c.is_ascii_digit() {
                break;
            }
            // x <= 2^47 here, so this cannot overflow.
            x = x * 10 + u64::from(c - b'0');
            if x > 1 << 47 {
                return Err(OutOfRange);
            }
            p += 1;
        }
        let mut frac: Option<(u64, u64)> = None;
        if at(p) == b'.' {
            p += 1;
            if p == end || !at(p).is_ascii_digit() {
                return Err(Invalid);
            }
            let mut num = u64::from(at(p) - b'0');
            let mut den: u64 = 10;
            p += 1;
            // Eleven digits at most count (days to the microsecond); the
            // rest are skipped.
            let mut kept = 0;
            loop {
                if p == end {
                    return Err(Invalid);
                }
                let c = at(p);
                if !c.is_ascii_digit() {
                    break;
                }
                if kept < 10 {
                    num = num * 10 + u64::from(c - b'0');
                    den *= 10;
                    kept += 1;
                }
                p += 1;
            }
            frac = Some((num, den));
        }
        let unit = at(p);
        p += 1;
        let scale: u64 = match unit {
            b'D' | b'd' => {
                if state >= STATE_D {
                    return Err(Invalid);
                }
                state = STATE_D;
                86_400
            }
            b'H' | b'h' => {
                if !(STATE_T..STATE_H).contains(&state) {
                    return Err(Invalid);
                }
                state = STATE_H;
                3_600
            }
            b'M' | b'm' => {
                if state < STATE_T {
                    return Err(Units);
                }
                if state >= STATE_M {
                    return Err(Invalid);
                }
                state = STATE_M;
                60
            }
            b'S' | b's' => {
                if !(STATE_T..STATE_S).contains(&state) {
                    return Err(Invalid);
                }
                state = STATE_S;
                1
            }
            b'W' | b'w' | b'Y' | b'y' => return Err(Units),
            _ => return Err(Invalid),
        };
        // msgspec adds a uint64 product to its int64 total: the sum wraps
        // for day counts above about 1.07e14 (x <= 2^47, so the product
        // itself fits).
        seconds = (seconds as u64).wrapping_add(scale * x) as i64;
        if let Some((num, den)) = frac {
            let num = num * scale;
            let mut extra_secs = num / den;
            let rem = num - extra_secs * den;
            // DIV_ROUND_CLOSEST on unsigned operands.
            micros += ((1_000_000 * rem + den / 2) / den) as i64;
            if micros >= 1_000_000 {
                extra_secs += 1;
                micros -= 1_000_000;
            }
            seconds = seconds.wrapping_add(extra_secs as i64);
        }
        if seconds > TIMEDELTA_MAX_SECONDS {
            return Err(OutOfRange);
        }
        if p == end {
            break;
        }
        if frac.is_some() {
            return Err(Invalid);
        }
    }
    if neg {
        seconds = seconds.wrapping_neg();
        // A fraction borrows a second (the microseconds become
        // 1_000_000 - micros, always in range, so they are not kept).
        if micros != 0 {
            seconds = seconds.wrapping_sub(1);
        }
        if seconds < TIMEDELTA_MIN_SECONDS {
            return Err(OutOfRange);
        }
    }
    // PyDelta_FromDSU(days, seconds, micros) takes C ints: the day count is
    // truncated to 32 bits, then normalised (seconds into 0..86400) and
    // range-checked. Only a wrapped total gets here out of range.
    let days64 = seconds / 86_400;
    let secs = seconds - days64 * 86_400;
    let mut days = days64 as i32;
    if secs < 0 {
        days = days.wrapping_sub(1);
    }
    if days.unsigned_abs() > 999_999_999 {
        return Err(DurationError::Overflow(days));
    }
    Ok(())
}

// -------------------------------------------------------------------- UUID

/// Checks a msgpack str against `uuid.UUID` (msgspec's
/// `ms_decode_uuid_from_str`): 32 hex digits, or 36 characters with `-`
/// after the 8th, 12th, 16th and 20th digit; either case.
pub(crate) fn uuid(s: &[u8]) -> Result<(), &'static str> {
    const SEGMENTS: [usize; 5] = [8, 4, 4, 4, 12];
    let hyphens = match s.len() {
        32 => false,
        36 => true,
        _ => return Err(INVALID_UUID),
    };
    let mut p = 0;
    for (i, &n) in SEGMENTS.iter().enumerate() {
        let hex = s.get(p..p + n).ok_or(INVALID_UUID)?;
        if !hex.iter().all(u8::is_ascii_hexdigit) {
            return Err(INVALID_UUID);
        }
        p += n;
        if hyphens && i < 4 {
            if s.get(p) != Some(&b'-') {
                return Err(INVALID_UUID);
            }
            p += 1;
        }
    }
    Ok(())
}

/// Checks a msgpack bin against `uuid.UUID` (msgspec's
/// `ms_decode_uuid_from_bytes`): any 16 bytes.
pub(crate) fn uuid_bytes(b: &[u8]) -> Result<(), &'static str> {
    if b.len() == 16 {
        Ok(())
    } else {
        Err(INVALID_UUID_BYTES)
    }
}

// ----------------------------------------------------------------- Decimal

/// The code points of Unicode's decimal digit zeros (each starts a run of
/// ten digits 0..9), as Python 3.13's `unicodedata` (Unicode 15.1) has them:
/// `[c for c in range(0x110000) if unicodedata.decimal(chr(c), None) == 0]`.
/// `Decimal` maps every such digit to its ASCII digit. (Python 3.11's
/// Unicode 14 lacks 0x11F50 and 0x1E4F0.)
const DIGIT_ZEROS: [u32; 68] = [
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66,
    0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
    0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
    0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650,
    0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x11F50, 0x16A60, 0x16AC0,
    0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E4F0, 0x1E950,
    0x1FBF0,
];

/// The decimal value of a Unicode decimal digit (`Py_UNICODE_TODECIMAL`).
fn unicode_decimal(c: char) -> Option<u8> {
    let c = c as u32;
    let i = DIGIT_ZEROS.partition_point(|&z| z <= c).checked_sub(1)?;
    let d = c - DIGIT_ZEROS.get(i)?;
    (d < 10).then_some(d as u8)
}

/// Python's `str.isspace()` (`Py_UNICODE_ISSPACE`), which is what
/// `Decimal` strips: ASCII `\t\n\v\f\r`, `\x1c`..`\x1f` and space, plus
/// the Unicode separators below.
fn is_py_space(c: char) -> bool {
    matches!(
        c,
        '\t'..='\r'
            | '\x1c'..='\x1f'
            | ' '
            | '\u{85}'
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
    )
}

/// Checks a msgpack str against `decimal.Decimal` (msgspec calls
/// `Decimal(s)` and reports any failure as "Invalid decimal string").
///
/// CPython's `_decimal` first strips `str.isspace()` characters from both
/// ends, drops every `_` (anywhere: `_1`, `1__0`, `in_f` all pass), turns
/// other whitespace into a space and Unicode decimal digits into ASCII
/// ones (any other non-ASCII character, or NUL, fails), then parses with
/// libmpdec: an optional sign, then `Inf`/`Infinity`, `NaN`/`sNaN` with an
/// optional digit payload (case-insensitive), or digits with an optional
/// point and `e[+-]digits` exponent. The exact conversion refuses values
/// whose adjusted exponent exceeds 999999999999999999 and exponents below
/// -1999999999999999997 (they would round or clamp).
pub(crate) fn decimal(s: &str) -> Result<(), &'static str> {
    let s = s.trim_matches(is_py_space);
    let mut ascii = Vec::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '_' => {}
            '\u{1}'..='\u{7f}' => ascii.push(c as u8),
            c if is_py_space(c) => ascii.push(b' '),
            c => ascii.push(b'0' + unicode_decimal(c).ok_or(INVALID_DECIMAL)?),
        }
    }
    if mpd_accepts(&ascii) {
        Ok(())
    } else {
        Err(INVALID_DECIMAL)
    }
}

/// Case-insensitive ASCII prefix test.
fn starts_with_ci(s: &[u8], word: &[u8]) -> bool {
    s.get(..word.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(word))
}

/// libmpdec's `mpd_qset_string` under the maximum context, as
/// `Decimal(str)` uses it, with the exactness check: true when it neither
/// fails to parse nor rounds, overflows or clamps.
fn mpd_accepts(s: &[u8]) -> bool {
    let s = match s.first() {
        Some(b'+' | b'-') => &s[1..],
        _ => s,
    };
    if starts_with_ci(s, b"nan") {
        return s[3..].iter().all(u8::is_ascii_digit);
    }
    if starts_with_ci(s, b"snan") {
        return s[4..].iter().all(u8::is_ascii_digit);
    }
    if starts_with_ci(s, b"inf") {
        let rest = &s[3..];
        return rest.is_empty() || rest.eq_ignore_ascii_case(b"inity");
    }
    mpd_finite_accepts(s)
}

/// The numeric part of [`mpd_accepts`]: `scan_dpoint_exp`, the exponent
/// arithmetic (saturating like `strtoll` and libmpdec) and
/// `_mpd_check_exp`'s verdict under emax = 10^18 - 1, etiny = -(2*10^18 - 3).
fn mpd_finite_accepts(s: &[u8]) -> bool {
    const EMAX: i128 = 999_999_999_999_999_999;
    const EMIN: i128 = -EMAX;
    const ETINY: i128 = EMIN - (EMAX - 1);
    const EXP_INF: i128 = 2_000_000_000_000_000_001;
    let (mantissa, exp_text) = match s.iter().position(|&c| c == b'e' || c == b'E') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    // Coefficient: digits with at most one point, at least one digit.
    let mut point = None;
    let mut int_digits = 0usize;
    let mut frac_digits = 0usize;
    let mut first_nonzero: Option<usize> = None; // digits after the first nonzero
    let mut sig = 0usize;
    for (i, &c) in mantissa.iter().enumerate() {
        match c {
            b'.' if point.is_none() => point = Some(i),
            b'0'..=b'9' => {
                if point.is_some() {
                    frac_digits += 1;
                } else {
                    int_digits += 1;
                }
                if c != b'0' && first_nonzero.is_none() {
                    first_nonzero = Some(i);
                }
                if first_nonzero.is_some() {
                    sig += 1;
                }
            }
            _ => return false,
        }
    }
    if int_digits + frac_digits == 0 {
        return false;
    }
    let mut exp: i128 = 0;
    if let Some(t) = exp_text {
        let (negative, digits) = match t.first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return false;
        }
        // strtoll saturates at the i64 bounds.
        let mut v: i128 = 0;
        for &c in digits {
            v = (v * 10 + i128::from(c - b'0')).min(i128::from(i64::MAX) + 1);
        }
        exp = if negative {
            -v.min(i128::from(i64::MAX) + 1)
        } else {
            v.min(i128::from(i64::MAX))
        };
    }
    let min = i128::from(i64::MIN);
    let fd = frac_digits as i128;
    exp = if exp < min + fd { min } else { exp - fd };
    exp = exp.min(EXP_INF);
    if exp == min {
        exp = min + 1;
    }
    let ndigits = sig.max(1) as i128;
    let adjexp = exp + ndigits - 1;
    if adjexp > EMAX {
        return false;
    }
    !(adjexp < EMIN && exp < ETINY)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One fixture case's verdict: `Ok(tz)` (tz for datetime/time only) or
    /// the error text.
    fn run(kind: &str, input: &[u8]) -> Result<Option<Tz>, String> {
        let text = || std::str::from_utf8(input).expect("fixture inputs are UTF-8");
        match kind {
            "datetime" => datetime(input).map(Some).map_err(str::to_owned),
            "date" => date(input).map(|()| None).map_err(str::to_owned),
            "time" => time(input).map(Some).map_err(str::to_owned),
            "timedelta" => duration(input).map(|()| None).map_err(|e| {
                if e == DURATION_OVERFLOW {
                    format!(
                        "OverflowError: {}",
                        duration_overflow_message(input).unwrap()
                    )
                } else {
                    e.to_owned()
                }
            }),
            "uuid" => uuid(input).map(|()| None).map_err(str::to_owned),
            "uuid_bytes" => uuid_bytes(input).map(|()| None).map_err(str::to_owned),
            "decimal" => decimal(text()).map(|()| None).map_err(str::to_owned),
            other => panic!("unknown fixture type {other}"),
        }
    }

    /// Every verdict of the msgspec-decided corpus
    /// (`fixtures/vectors/str-forms.json`) agrees: accept/reject, the error
    /// text, and for datetime/time whether the value is aware.
    #[test]
    fn forms_match_msgspec_corpus() {
        // STR_FORMS_FIXTURE points the test at a larger generated corpus.
        let path = std::env::var_os("STR_FORMS_FIXTURE")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("fixtures/vectors/str-forms.json")
            });
        let text = std::fs::read_to_string(&path).unwrap();
        let file: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(file["source"]["version"], "0.22.0");
        let mut failures = Vec::new();
        let cases = file["cases"].as_array().unwrap();
        for case in cases {
            let kind = case["type"].as_str().unwrap();
            let input: Vec<u8> = match case.get("input_hex").and_then(|h| h.as_str()) {
                Some(h) => hex::decode(h).unwrap(),
                None => case["input"].as_str().unwrap().as_bytes().to_vec(),
            };
            let expected = if case["ok"].as_bool().unwrap() {
                Ok(match case["tz"].as_str() {
                    Some("aware") => Some(Tz::Aware),
                    Some("naive") => Some(Tz::Naive),
                    _ => None,
                })
            } else {
                let error = case["error"].as_str().unwrap();
                Err(match case["exc"].as_str() {
                    Some("OverflowError") => format!("OverflowError: {error}"),
                    _ => error.to_owned(),
                })
            };
            let got = run(kind, &input);
            if got != expected {
                failures.push(format!(
                    "{kind} {:?}: expected {expected:?}, got {got:?}",
                    String::from_utf8_lossy(&input)
                ));
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {} disagree:\n{}",
            failures.len(),
            cases.len(),
            failures.join("\n")
        );
        assert!(cases.len() > 5000, "{}", cases.len());
    }

    proptest::proptest! {
        /// Arbitrary strings and bytes never panic any check.
        #[test]
        fn arbitrary_inputs_never_panic(s in ".{0,48}", b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..48)) {
            for input in [s.as_bytes(), &b[..]] {
                let _ = (datetime(input), date(input), time(input), duration(input));
                let _ = (uuid(input), uuid_bytes(input), duration_overflow_message(input));
            }
            let _ = decimal(&s);
        }
    }

    /// Long, odd and hostile inputs never panic.
    #[test]
    fn no_panics_on_odd_inputs() {
        let long_digits = "9".repeat(10_000);
        let inputs = [
            String::new(),
            "P".to_owned() + &long_digits + "D",
            "PT0.".to_owned() + &long_digits + "S",
            "2020-01-01T00:00:00.".to_owned() + &long_digits,
            "1e".to_owned() + &long_digits,
            "1e-".to_owned() + &long_digits,
            "0.".to_owned() + &long_digits + "e-" + &long_digits,
            long_digits.clone(),
            "\u{0}".repeat(40),
            "é".repeat(20),
        ];
        for s in &inputs {
            let b = s.as_bytes();
            let _ = (datetime(b), date(b), time(b), duration(b), uuid(b));
            let _ = (uuid_bytes(b), decimal(s));
        }
    }
}
