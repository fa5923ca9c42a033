//! A name for a token that can be logged in its place.

use sha2::{Digest, Sha256};

/// `"tok-"` and the first 16 hexadecimal digits of the SHA-256 of `token`:
/// 64 bits, enough to tell a process's tokens apart in a log, and nothing
/// from which the token (whose signature is itself 256 bits of HMAC) could
/// be recovered.
pub fn token_fingerprint(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    let hex: String = digest[..8].iter().map(|byte| format!("{byte:02x}")).collect();
    format!("tok-{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_is_the_start_of_the_sha256() {
        // sha256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
        assert_eq!(token_fingerprint("abc"), "tok-ba7816bf8f01cfea");
    }

    #[test]
    fn different_tokens_have_different_fingerprints() {
        assert_ne!(
            token_fingerprint("host:5432/?Action=connect&X-Amz-Signature=1"),
            token_fingerprint("host:5432/?Action=connect&X-Amz-Signature=2")
        );
    }
}
