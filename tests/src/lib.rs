//! Lintas integration tests live in `it/`; see README.md.
