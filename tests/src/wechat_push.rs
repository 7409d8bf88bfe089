//! WeChat's side of the message push, as its servers send it: the signature over the sorted
//! token, timestamp and nonce (and the ciphertext in safe mode), and safe mode's AES-256-CBC
//! with the EncodingAESKey (random 16 bytes, big-endian length, message, appid, PKCS#7 to
//! 32-byte blocks). Written from WeChat's documentation, apart from the server's code.
use aes::cipher::{BlockEncryptMut, KeyIvInit, block_padding::NoPadding};
use base64::{Engine, engine::general_purpose::STANDARD};
use sha1::{Digest, Sha1};

/// A 43-character EncodingAESKey for tests.
pub const AES_KEY: &str = "BwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSY";
pub const TOKEN: &str = "push-token-for-tests";

pub fn sign(parts: &[&str]) -> String {
    let mut sorted: Vec<&str> = parts.to_vec();
    sorted.sort();
    let mut hasher = Sha1::new();
    for p in sorted {
        hasher.update(p.as_bytes());
    }
    hex::encode(hasher.finalize())
}

pub fn encrypt(encoding_aes_key: &str, appid: &str, message: &str) -> String {
    let key = STANDARD
        .decode(format!("{encoding_aes_key}="))
        .expect("a 43-character key");
    let mut plain: Vec<u8> = (0u8..16).map(|i| i.wrapping_mul(37)).collect();
    plain.extend_from_slice(&(message.len() as u32).to_be_bytes());
    plain.extend_from_slice(message.as_bytes());
    plain.extend_from_slice(appid.as_bytes());
    let pad = 32 - plain.len() % 32;
    plain.extend(std::iter::repeat_n(pad as u8, pad));
    let len = plain.len();
    let cipher = cbc::Encryptor::<aes::Aes256>::new_from_slices(&key, &key[..16]).expect("key");
    let out = cipher
        .encrypt_padded_mut::<NoPadding>(&mut plain, len)
        .expect("whole blocks");
    STANDARD.encode(out)
}
