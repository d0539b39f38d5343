//! Cassandra's native CQL functions: scalar functions (time, conversions, casts, JSON) and
//! aggregates, resolved by name and argument types.

use bytes::Bytes;
use meridian_types::cql_type::CqlType;

use crate::context::ExecOptions;
use crate::error::QueryError;

/// The body of a scalar function: arguments (`None` = null) to result.
pub type ScalarBody = fn(&[Option<Bytes>], &ExecOptions) -> Result<Option<Bytes>, QueryError>;

/// A resolved scalar function overload.
#[derive(Clone, Debug)]
pub struct ScalarFn {
    /// Function name as Cassandra reports it.
    pub name: &'static str,
    /// Argument types of the overload.
    pub arg_types: Vec<CqlType>,
    /// Result type.
    pub return_type: CqlType,
    /// The body.
    pub call: ScalarBody,
}

/// An aggregate being computed over the rows of a group.
pub trait Aggregate: Send {
    /// Adds one input value (`None` = null).
    fn add(&mut self, value: Option<&[u8]>) -> Result<(), QueryError>;
    /// The aggregate's result so far.
    fn finish(&self) -> Option<Bytes>;
}

/// Resolves scalar function `name` for arguments of types `arg_types` (`None`: not known,
/// e.g. a literal or a bind marker).
pub fn scalar(name: &str, arg_types: &[Option<CqlType>]) -> Result<ScalarFn, QueryError> {
    let _ = arg_types;
    Err(QueryError::invalid(format!("Unknown function '{name}'")))
}

/// An aggregate `name` over values of type `arg_type`, with its result type.
pub fn aggregate(
    name: &str,
    arg_type: &CqlType,
) -> Result<(Box<dyn Aggregate>, CqlType), QueryError> {
    let _ = arg_type;
    Err(QueryError::invalid(format!("Unknown function '{name}'")))
}
