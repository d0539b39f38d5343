//! CQL parser.
