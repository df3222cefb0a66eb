//! Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP, HMAC-SHA1, 6
//! digits, 30-second steps), the base32 secrets authenticator apps read, the
//! `otpauth://` enrolment URI and its QR code (SVG drawn on the server), and the
//! encryption of stored secrets (AES-256-GCM under a key derived from the
//! instance's session key, so a copy of the database alone does not give them).

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// Seconds per time step.
pub const STEP: i64 = 30;
/// Digits per code.
pub const DIGITS: u32 = 6;
/// Steps accepted either side of now (clock drift).
pub const WINDOW: i64 = 1;
/// Secret length in bytes (160 bits, as RFC 4226 recommends).
pub const SECRET_LEN: usize = 20;

/// HOTP (RFC 4226): the `DIGITS`-digit code for `counter`.
pub fn hotp(secret: &[u8], counter: u64) -> u32 {
    hotp_digits(secret, counter, DIGITS)
}

fn hotp_digits(secret: &[u8], counter: u64, digits: u32) -> u32 {
    // HMAC accepts keys of any length; this cannot fail.
    let mut mac = match <Hmac<Sha1> as Mac>::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => return 0,
    };
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = (h[19] & 0x0f) as usize;
    let bin = (u32::from(h[offset]) & 0x7f) << 24
        | u32::from(h[offset + 1]) << 16
        | u32::from(h[offset + 2]) << 8
        | u32::from(h[offset + 3]);
    bin % 10u32.pow(digits)
}

/// The time step of a Unix time.
pub fn step_at(unix: i64) -> i64 {
    unix.div_euclid(STEP)
}

/// The code at a Unix time, zero-padded.
pub fn code_at(secret: &[u8], unix: i64) -> String {
    format!(
        "{:0width$}",
        hotp(secret, step_at(unix) as u64),
        width = DIGITS as usize
    )
}

/// Checks a typed code against the steps around `unix`; returns the matching step
/// (the caller refuses steps at or before the last one accepted: no replay).
pub fn verify(secret: &[u8], typed: &str, unix: i64) -> Option<i64> {
    let typed: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    if typed.len() != DIGITS as usize || !typed.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_at(unix);
    let mut found = None;
    for step in (now - WINDOW)..=(now + WINDOW) {
        if step < 0 {
            continue;
        }
        let code = format!(
            "{:0width$}",
            hotp(secret, step as u64),
            width = DIGITS as usize
        );
        // Compare every candidate in constant time, and do not stop early.
        if subtle::ConstantTimeEq::ct_eq(code.as_bytes(), typed.as_bytes()).into() {
            found = Some(step);
        }
    }
    found
}

/// A new random secret.
pub fn new_secret() -> Vec<u8> {
    use rand::RngCore;
    let mut s = vec![0u8; SECRET_LEN];
    rand::rng().fill_bytes(&mut s);
    s
}

const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding (what authenticator apps expect).
pub fn base32_encode(data: &[u8]) -> String {
    let mut out = String::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for &b in data {
        buf = (buf << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(B32[((buf >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(B32[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Reads base32 (any case, spaces and padding ignored).
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let v = B32
            .iter()
            .position(|&b| b as char == c.to_ascii_uppercase())? as u32;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buf >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

/// The `otpauth://totp/...` URI an authenticator app scans.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'@' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP}",
        enc(issuer),
        enc(account),
        base32_encode(secret),
        enc(issuer)
    )
}

/// The URI as an SVG QR code (no scripts, no external references).
pub fn qr_svg(uri: &str) -> Result<String, String> {
    use qrcode::render::svg;
    let code = qrcode::QrCode::with_error_correction_level(uri.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| format!("QR code: {e}"))?;
    Ok(code
        .render::<svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build())
}

fn cipher(session_key: &[u8]) -> Option<Aes256Gcm> {
    let mut h = Sha256::new();
    h.update(b"atrium totp secret v1\0");
    h.update(session_key);
    Aes256Gcm::new_from_slice(&h.finalize()).ok()
}

/// Encrypts a secret for storage: base64 of nonce ‖ ciphertext.
pub fn seal(session_key: &[u8], secret: &[u8]) -> Result<String, String> {
    use rand::RngCore;
    let c = cipher(session_key).ok_or("bad key")?;
    let mut nonce = [0u8; 12];
    rand::rng().fill_bytes(&mut nonce);
    let ct = c
        .encrypt(Nonce::from_slice(&nonce), secret)
        .map_err(|_| "encryption failed".to_owned())?;
    let mut all = nonce.to_vec();
    all.extend_from_slice(&ct);
    Ok(base64::engine::general_purpose::STANDARD.encode(all))
}

/// Decrypts a stored secret (`None` when the key changed or the text is damaged).
pub fn open(session_key: &[u8], stored: &str) -> Option<Vec<u8>> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(stored)
        .ok()?;
    if raw.len() < 13 {
        return None;
    }
    let (nonce, ct) = raw.split_at(12);
    cipher(session_key)?
        .decrypt(Nonce::from_slice(nonce), ct)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 rows (8 digits, secret "12345678901234567890").
    #[test]
    fn rfc6238_test_vectors() {
        let secret = b"12345678901234567890";
        for (t, want) in [
            (59_i64, 94287082_u32),
            (1111111109, 7081804),
            (1111111111, 14050471),
            (1234567890, 89005924),
            (2000000000, 69279037),
            (20000000000, 65353130),
        ] {
            assert_eq!(hotp_digits(secret, step_at(t) as u64, 8), want, "T={t}");
        }
        // The same steps with 6 digits are the last 6 digits.
        assert_eq!(code_at(secret, 59), "287082");
        assert_eq!(code_at(secret, 1111111109), "081804");
    }

    /// RFC 4226 appendix D.
    #[test]
    fn rfc4226_hotp_vectors() {
        let secret = b"12345678901234567890";
        let want = [755224, 287082, 359152, 969429, 338314];
        for (i, w) in want.iter().enumerate() {
            assert_eq!(hotp(secret, i as u64), *w);
        }
    }

    #[test]
    fn verify_accepts_drift_and_refuses_junk() {
        let secret = b"12345678901234567890";
        let t = 1111111109;
        assert_eq!(verify(secret, "081804", t), Some(step_at(t)));
        assert_eq!(verify(secret, "081 804", t + 30), Some(step_at(t)));
        assert_eq!(verify(secret, "081804", t + 95), None);
        assert_eq!(verify(secret, "08180", t), None);
        assert_eq!(verify(secret, "abcdef", t), None);
    }

    #[test]
    fn base32_round_trip() {
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(
            base32_decode("mzxw6ytboi======").as_deref(),
            Some(&b"foobar"[..])
        );
        let s = new_secret();
        assert_eq!(base32_decode(&base32_encode(&s)), Some(s));
        assert!(base32_decode("not base32!").is_none());
    }

    #[test]
    fn sealed_secrets_open_only_with_the_key() {
        let key = [7u8; 64];
        let sealed = seal(&key, b"secret").expect("seal");
        assert_eq!(open(&key, &sealed).as_deref(), Some(&b"secret"[..]));
        assert!(open(&[8u8; 64], &sealed).is_none());
    }

    #[test]
    fn qr_is_svg() {
        let svg = qr_svg(&otpauth_uri("Atrium", "a@b.c", b"12345678901234567890")).expect("qr");
        assert!(svg.contains("<svg") && !svg.contains("<script"));
    }
}
