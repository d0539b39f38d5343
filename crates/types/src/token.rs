//! Murmur3 partitioner tokens.
