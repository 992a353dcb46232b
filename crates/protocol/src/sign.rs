//! HMAC-SHA1 signatures: the agent's frame signature, the services' body signature and the upload token.
//!
//! RustCrypto's `hmac` + `sha1` are used rather than hand-written code; `verify_slice` compares in constant time.

use hmac::{Hmac, Mac};
use sha1::Sha1;

type HmacSha1 = Hmac<Sha1>;

/// Lowercase hex HMAC-SHA1 of the concatenation of `parts` under `key`.
pub fn hmac_sha1_hex(key: &[u8], parts: &[&[u8]]) -> String {
    hex::encode(mac(key, parts).finalize().into_bytes())
}

/// Constant-time check of a hex signature over the concatenation of `parts`.
pub fn verify_hmac_sha1_hex(key: &[u8], parts: &[&[u8]], signature_hex: &str) -> bool {
    let Ok(expected) = hex::decode(signature_hex) else {
        return false;
    };
    mac(key, parts).verify_slice(&expected).is_ok()
}

fn mac(key: &[u8], parts: &[&[u8]]) -> HmacSha1 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = HmacSha1::new_from_slice(key).expect("hmac takes keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac
}

/// The signature an agent's `upload_file` child puts in the upload query (reference 4.7): HMAC-SHA1 keyed by the
/// per-file token over the compact JSON of five string values in a fixed order.
pub fn upload_signature(token: &str, agent_id: &str, file_id: &str, file_type: &str, nonce: &str, timestamp: &str) -> String {
    hmac_sha1_hex(token.as_bytes(), &[upload_signed_text(agent_id, file_id, file_type, nonce, timestamp).as_bytes()])
}

/// Checks an upload query's signature (constant time). An empty token never verifies: HMAC with an empty key is
/// valid, so the original accepted unauthenticated uploads for rows that were not awaiting one.
pub fn verify_upload_signature(token: &str, agent_id: &str, file_id: &str, file_type: &str, nonce: &str, timestamp: &str, signature_hex: &str) -> bool {
    let text = upload_signed_text(agent_id, file_id, file_type, nonce, timestamp);
    !token.is_empty() && verify_hmac_sha1_hex(token.as_bytes(), &[text.as_bytes()], signature_hex)
}

fn upload_signed_text(agent_id: &str, file_id: &str, file_type: &str, nonce: &str, timestamp: &str) -> String {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Signed<'a> {
        agent_id: &'a str,
        file_id: &'a str,
        file_type: &'a str,
        nonce: &'a str,
        timestamp: &'a str,
    }
    serde_json::to_string(&Signed { agent_id, file_id, file_type, nonce, timestamp }).expect("a struct of strings always serializes")
}

/// Finds a trailing `,"signature":"<40 hex>"}` member and splits it off.
/// Returns the text before the member and the hex signature; the signed text is that prefix followed by `}`.
pub(crate) fn split_trailing_signature(raw: &str) -> Option<(&str, &str)> {
    const MEMBER: &str = "\"signature\":\"";
    let trimmed = raw.trim_end();
    let body = trimmed.strip_suffix("\"}")?;
    if body.len() < 40 {
        return None;
    }
    let (before_sig, sig) = body.split_at(body.len() - 40);
    if !sig.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let before_member = before_sig.strip_suffix(MEMBER)?;
    // Either `{...,"signature":…}` or the lone member `{"signature":…}`.
    if let Some(prefix) = before_member.strip_suffix(',') {
        return Some((prefix, sig));
    }
    if before_member.trim_end() == "{" {
        return Some((before_member.trim_end(), sig));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_signature_matches_the_observed_vector() {
        let sig = upload_signature("tok123", "vm", "12", "cpuprofile", "3211285737", "1795628308861");
        assert_eq!(sig, "0365af6c2d63c9a24b530ac98b96cf47a52d50f7");
        let ok = |token, sig| verify_upload_signature(token, "vm", "12", "cpuprofile", "3211285737", "1795628308861", sig);
        assert!(ok("tok123", "0365af6c2d63c9a24b530ac98b96cf47a52d50f7"));
        assert!(!ok("tok124", "0365af6c2d63c9a24b530ac98b96cf47a52d50f7"));
        let empty_key = upload_signature("", "vm", "12", "cpuprofile", "3211285737", "1795628308861");
        assert!(!ok("", &empty_key), "an empty token must never authenticate an upload");
    }

    #[test]
    fn split_handles_a_lone_signature_member() {
        let raw = format!("{{\"signature\":\"{}\"}}", "a".repeat(40));
        let (prefix, sig) = split_trailing_signature(&raw).unwrap();
        assert_eq!(prefix, "{");
        assert_eq!(sig.len(), 40);
    }

    #[test]
    fn split_rejects_a_signature_that_is_not_last_or_not_hex() {
        assert!(split_trailing_signature(r#"{"a":1}"#).is_none());
        let not_hex = format!("{{\"a\":1,\"signature\":\"{}\"}}", "z".repeat(40));
        assert!(split_trailing_signature(&not_hex).is_none());
        let short = r#"{"a":1,"signature":"abc"}"#;
        assert!(split_trailing_signature(short).is_none());
    }

    #[test]
    fn verify_rejects_malformed_hex() {
        assert!(!verify_hmac_sha1_hex(b"k", &[b"x"], "not-hex"));
        let good = hmac_sha1_hex(b"k", &[b"x"]);
        assert!(verify_hmac_sha1_hex(b"k", &[b"x"], &good));
        assert!(verify_hmac_sha1_hex(b"k", &[b"", b"x"], &good));
    }
}
