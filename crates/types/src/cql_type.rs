//! CQL types and their comparators.
