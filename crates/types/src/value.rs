//! CQL values: encoding and decoding of collection, tuple and UDT values.
