//! CQL native protocol codec.
