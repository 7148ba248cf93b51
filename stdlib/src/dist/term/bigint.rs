//! Integers beyond `i64`: sign and magnitude, as SMALL_BIG_EXT / LARGE_BIG_EXT
//! carry them.
//!
//! Normal form, kept by every constructor: the magnitude has no high zero bytes
//! and the value does not fit `i64` (such a value is always [`Term::Int`]). So
//! equal integers have equal representations and `PartialEq` can be structural.

use super::Term;

/// An integer that does not fit `i64`: a sign and a little-endian magnitude.
///
/// Built through [`Term::from_i128`], [`Term::from_u128`] or
/// [`Term::big_int`], which give [`Term::Int`] for a value that fits `i64`.
///
/// # Examples
///
/// ```
/// use beamlet::otp::dist::term::Term;
/// let big = Term::from_u128(u64::MAX as u128 + 1);
/// let Term::BigInt(b) = &big else { panic!("not big") };
/// assert!(!b.is_negative());
/// assert_eq!(b.magnitude(), &[0, 0, 0, 0, 0, 0, 0, 0, 1]);
/// assert_eq!(b.to_u128(), Some(1 << 64));
/// assert_eq!(Term::from_i128(-5), Term::Int(-5));
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BigInt {
    negative: bool,
    magnitude: Vec<u8>,
}

impl BigInt {
    /// Whether the value is below zero.
    ///
    /// ```
    /// # use beamlet::otp::dist::term::Term;
    /// let Term::BigInt(b) = Term::from_i128(i128::MIN) else { panic!() };
    /// assert!(b.is_negative());
    /// ```
    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// The absolute value's bytes, least significant first, no high zero bytes.
    ///
    /// ```
    /// # use beamlet::otp::dist::term::Term;
    /// let Term::BigInt(b) = Term::from_i128(-(1 << 64)) else { panic!() };
    /// assert_eq!(b.magnitude().len(), 9);
    /// ```
    pub fn magnitude(&self) -> &[u8] {
        &self.magnitude
    }

    /// The value as `i128`, if it fits.
    ///
    /// ```
    /// # use beamlet::otp::dist::term::Term;
    /// let Term::BigInt(b) = Term::from_i128(i128::MIN) else { panic!() };
    /// assert_eq!(b.to_i128(), Some(i128::MIN));
    /// ```
    pub fn to_i128(&self) -> Option<i128> {
        let abs = self.to_u128_magnitude()?;
        if self.negative {
            0i128.checked_sub_unsigned(abs)
        } else {
            i128::try_from(abs).ok()
        }
    }

    /// The value as `u128`, if it is positive and fits.
    ///
    /// ```
    /// # use beamlet::otp::dist::term::Term;
    /// let Term::BigInt(b) = Term::from_u128(u128::MAX) else { panic!() };
    /// assert_eq!(b.to_u128(), Some(u128::MAX));
    /// ```
    pub fn to_u128(&self) -> Option<u128> {
        if self.negative {
            return None;
        }
        self.to_u128_magnitude()
    }

    fn to_u128_magnitude(&self) -> Option<u128> {
        if self.magnitude.len() > 16 {
            return None;
        }
        let mut bytes = [0u8; 16];
        bytes[..self.magnitude.len()].copy_from_slice(&self.magnitude);
        Some(u128::from_le_bytes(bytes))
    }
}

impl std::fmt::Debug for BigInt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// Decimal digits, by repeated division of the magnitude by 10^19.
impl std::fmt::Display for BigInt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const CHUNK: u64 = 10_000_000_000_000_000_000;
        // Little-endian u32 limbs of the magnitude.
        let mut limbs: Vec<u32> = self
            .magnitude
            .chunks(4)
            .map(|c| {
                let mut b = [0u8; 4];
                b[..c.len()].copy_from_slice(c);
                u32::from_le_bytes(b)
            })
            .collect();
        let mut chunks = Vec::new();
        while limbs.iter().any(|&l| l != 0) {
            let mut rem: u128 = 0;
            for limb in limbs.iter_mut().rev() {
                let cur = (rem << 32) | u128::from(*limb);
                *limb = (cur / u128::from(CHUNK)) as u32;
                rem = cur % u128::from(CHUNK);
            }
            chunks.push(rem as u64);
        }
        if self.negative {
            f.write_str("-")?;
        }
        let mut rev = chunks.iter().rev();
        match rev.next() {
            Some(top) => write!(f, "{top}")?,
            None => f.write_str("0")?,
        }
        for chunk in rev {
            write!(f, "{chunk:019}")?;
        }
        Ok(())
    }
}

impl Term {
    /// The integer `negative ? -magnitude : magnitude`, the magnitude's bytes least
    /// significant first: [`Term::Int`] when it fits `i64`, else [`Term::BigInt`].
    ///
    /// ```
    /// use beamlet::otp::dist::term::Term;
    /// assert_eq!(Term::big_int(true, vec![1, 0, 0]), Term::Int(-1));
    /// assert!(matches!(Term::big_int(false, vec![0; 8].into_iter().chain([1]).collect()), Term::BigInt(_)));
    /// ```
    pub fn big_int(negative: bool, mut magnitude: Vec<u8>) -> Term {
        while magnitude.last() == Some(&0) {
            magnitude.pop();
        }
        if magnitude.len() <= 8 {
            let mut bytes = [0u8; 8];
            bytes[..magnitude.len()].copy_from_slice(&magnitude);
            let abs = u64::from_le_bytes(bytes);
            let fits = if negative {
                0i64.checked_sub_unsigned(abs)
            } else {
                i64::try_from(abs).ok()
            };
            if let Some(v) = fits {
                return Term::Int(v);
            }
        }
        Term::BigInt(BigInt {
            negative,
            magnitude,
        })
    }

    /// An integer from `i128`: [`Term::Int`] when it fits `i64`.
    ///
    /// ```
    /// use beamlet::otp::dist::term::Term;
    /// assert_eq!(Term::from_i128(7), Term::Int(7));
    /// ```
    pub fn from_i128(value: i128) -> Term {
        match i64::try_from(value) {
            Ok(v) => Term::Int(v),
            Err(_) => Term::big_int(value < 0, value.unsigned_abs().to_le_bytes().to_vec()),
        }
    }

    /// An integer from `u128`: [`Term::Int`] when it fits `i64`.
    ///
    /// ```
    /// use beamlet::otp::dist::term::Term;
    /// assert_eq!(Term::from_u128(7), Term::Int(7));
    /// ```
    pub fn from_u128(value: u128) -> Term {
        match i64::try_from(value) {
            Ok(v) => Term::Int(v),
            Err(_) => Term::big_int(false, value.to_le_bytes().to_vec()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_form_and_round_trips() {
        for v in [
            i128::MIN,
            i128::MAX,
            i64::MIN as i128 - 1,
            i64::MAX as i128 + 1,
            -(1 << 100),
        ] {
            let t = Term::from_i128(v);
            let Term::BigInt(b) = &t else {
                panic!("{v} should be big")
            };
            assert_eq!(b.to_i128(), Some(v));
            assert_eq!(b.to_string(), v.to_string());
        }
        assert_eq!(Term::from_i128(i64::MIN as i128), Term::Int(i64::MIN));
        assert_eq!(Term::big_int(true, vec![0; 9]), Term::Int(0));
        assert_eq!(
            Term::big_int(true, (1u64 << 63).to_le_bytes().to_vec()),
            Term::Int(i64::MIN)
        );
        let Term::BigInt(b) = Term::from_u128(u128::MAX) else {
            panic!()
        };
        assert_eq!(b.to_string(), u128::MAX.to_string());
        assert_eq!(b.to_i128(), None);
    }
}
