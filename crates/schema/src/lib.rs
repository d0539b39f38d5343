//! Schema metadata (placeholder until the schema work lands).
