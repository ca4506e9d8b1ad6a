//! Compiles `proto/lintas/v1` with protox (a pure-Rust protobuf compiler), so
//! building Lintas never needs a system `protoc`.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let files = [
        "lintas/v1/common.proto",
        "lintas/v1/case.proto",
        "lintas/v1/notice.proto",
        "lintas/v1/receipt.proto",
        "lintas/v1/roster.proto",
        "lintas/v1/log.proto",
        "lintas/v1/evidence.proto",
        // Only the messages: lintas-grpc generates the services.
        "lintas/v1/node.proto",
        "lintas/v1/offline.proto",
    ];
    for file in &files {
        println!("cargo:rerun-if-changed={}", proto_root.join(file).display());
    }
    let descriptors = protox::compile(files, [&proto_root])?;
    // The schema, kept for the exact-bytes rules (src/encoding.rs): which
    // fields are singular, which belong to a oneof, which are messages.
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out.join("lintas.v1.fds"),
        prost::Message::encode_to_vec(&descriptors),
    )?;
    let mut config = prost_build::Config::new();
    config.enable_type_names();
    config.compile_fds(descriptors)?;
    Ok(())
}
