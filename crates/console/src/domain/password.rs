//! Password hashing: argon2id (RustCrypto's `argon2`, PHC strings in `user.pass`), and the original's unsalted MD5
//! hex, accepted once so users of an original database keep their password (the caller then stores an argon2id hash).
//! CPU-heavy on purpose: call from `spawn_blocking`.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use md5::{Digest, Md5};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    /// Valid against the original's MD5: replace the stored value with [`hash`].
    ValidLegacy,
    Invalid,
}

/// An argon2id PHC string for `password` (the crate's defaults: 19 MiB, 2 passes, OWASP's recommendation).
pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).expect("argon2 with its default parameters and a generated salt does not fail").to_string()
}

pub fn verify(stored: &str, password: &str) -> Verdict {
    if let Ok(parsed) = PasswordHash::new(stored) {
        return match Argon2::default().verify_password(password.as_bytes(), &parsed) {
            Ok(()) => Verdict::Valid,
            Err(_) => Verdict::Invalid,
        };
    }
    let is_md5 = stored.len() == 32 && stored.bytes().all(|b| b.is_ascii_hexdigit());
    if !is_md5 {
        return Verdict::Invalid;
    }
    let given = hex::encode(Md5::digest(password.as_bytes()));
    // Constant time: compare every byte whatever the first difference.
    let same = given.bytes().zip(stored.to_ascii_lowercase().bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    match same {
        true => Verdict::ValidLegacy,
        false => Verdict::Invalid,
    }
}

/// A random password for the generated first administrator (24 characters, no look-alikes).
pub fn generate() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rngs::OsRng;
    (0..24).map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2_hashes_verify_and_original_md5_is_accepted_once() {
        let h = hash("s3cret pass");
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert_eq!(verify(&h, "s3cret pass"), Verdict::Valid);
        assert_eq!(verify(&h, "s3cret pasS"), Verdict::Invalid);
        // md5("123456"), as the original stored it
        assert_eq!(verify("e10adc3949ba59abbe56e057f20f883e", "123456"), Verdict::ValidLegacy);
        assert_eq!(verify("E10ADC3949BA59ABBE56E057F20F883E", "123456"), Verdict::ValidLegacy);
        assert_eq!(verify("e10adc3949ba59abbe56e057f20f883e", "1234567"), Verdict::Invalid);
        assert_eq!(verify("", ""), Verdict::Invalid);
        assert_eq!(verify("plain", "plain"), Verdict::Invalid);
        assert_eq!(generate().len(), 24);
    }
}
