//! JSON renderings of CQL values (`SELECT JSON`, `toJson`) and their inverse (`INSERT JSON`,
//! `fromJson`), as Cassandra's types render and parse them.

use bytes::Bytes;
use meridian_types::cql_type::CqlType;

use crate::error::QueryError;

/// Renders a serialized value of `ty` as JSON (`null` for `None`).
pub fn to_json(ty: &CqlType, value: Option<&[u8]>) -> Result<String, QueryError> {
    match value {
        None => Ok("null".to_string()),
        Some(_) => Err(QueryError::invalid(format!("toJson of {ty} is not supported yet"))),
    }
}

/// Reads a JSON value as a serialized value of `ty` (`None` for JSON `null`).
pub fn from_json(ty: &CqlType, json: &serde_json::Value) -> Result<Option<Bytes>, QueryError> {
    match json {
        serde_json::Value::Null => Ok(None),
        _ => Err(QueryError::invalid(format!("fromJson to {ty} is not supported yet"))),
    }
}
