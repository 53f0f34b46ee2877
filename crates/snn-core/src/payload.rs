//! The one place that knows the serde binary format of file payloads (bincode 2, standard
//! configuration). Moving to postcard or another serde format changes only this module.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Upper bound on a decoded payload, so a corrupt length can never trigger a huge allocation.
const LIMIT_BYTES: usize = 1 << 32;

/// Serializes a value to payload bytes.
pub(crate) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, String> {
    bincode::serde::encode_to_vec(value, bincode::config::standard()).map_err(|e| e.to_string())
}

/// Deserializes payload bytes; the whole input must be consumed.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let config = bincode::config::standard().with_limit::<LIMIT_BYTES>();
    let (value, used) =
        bincode::serde::decode_from_slice(bytes, config).map_err(|e| e.to_string())?;
    if used != bytes.len() {
        return Err(format!(
            "{} trailing bytes after the payload",
            bytes.len() - used
        ));
    }
    Ok(value)
}
