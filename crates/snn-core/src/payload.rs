//! The one place that knows the serde binary format of file payloads (bincode 2, standard
//! configuration). Moving to postcard or another serde format changes only this module.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Deserializes payload bytes with bincode's allocation limit set to the smallest size class
/// of at least 16× the payload: a forged length prefix (a string or vector claiming gigabytes)
/// is refused instead of allocated. Decoded values never need more than a few times their
/// encoded size (varint integers widen to 4 or 8 bytes).
macro_rules! decode_limited {
    ($bytes:expr, $($limit:expr),+) => {{
        let need = $bytes.len().saturating_mul(16);
        let mut result = None;
        $(
            if result.is_none() && need <= $limit {
                let config = bincode::config::standard().with_limit::<{ $limit }>();
                result = Some(bincode::serde::decode_from_slice($bytes, config));
            }
        )+
        result.unwrap_or_else(|| {
            let config = bincode::config::standard().with_limit::<{ 1usize << 36 }>();
            bincode::serde::decode_from_slice($bytes, config)
        })
    }};
}

/// Serializes a value to payload bytes.
pub(crate) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, String> {
    bincode::serde::encode_to_vec(value, bincode::config::standard()).map_err(|e| e.to_string())
}

/// Deserializes payload bytes; the whole input must be consumed.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let (value, used) = decode_limited!(bytes, 1 << 16, 1 << 20, 1 << 24, 1 << 28, 1 << 32)
        .map_err(|e| e.to_string())?;
    if used != bytes.len() {
        return Err(format!(
            "{} trailing bytes after the payload",
            bytes.len() - used
        ));
    }
    Ok(value)
}
