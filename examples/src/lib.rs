//! Lintas examples live beside this folder; run one with `cargo run --example <name>`.
