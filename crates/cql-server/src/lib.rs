//! CQL server (placeholder until the server work lands).
