//! Shared fixtures for the Lintas cross-crate tests and examples.
