//! Generates the gRPC services of `proto/lintas/v1/node.proto` with protox
//! (no system `protoc`). Messages come from `lintas_core::pb`; this crate
//! only adds the service traits, clients and the descriptor set for server
//! reflection.

use std::path::PathBuf;

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    println!("cargo:rerun-if-changed={}", proto_root.display());
    let descriptors = protox::compile(["lintas/v1/node.proto"], [&proto_root])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out.join("lintas_descriptor.bin"),
        descriptors.encode_to_vec(),
    )?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .extern_path(".lintas.v1", "::lintas_core::pb")
        .compile_fds(descriptors)?;
    Ok(())
}
