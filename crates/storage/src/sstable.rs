//! SSTable files.
