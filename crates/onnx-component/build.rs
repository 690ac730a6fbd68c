//! The build step of an ONNX model component: `ONNX_MODEL` names a `model.toml` (default: the
//! repository's example, `models/breast-cancer-lr/model.toml`); it and the ONNX file it names
//! are read, checked against each other and written as `$OUT_DIR/model.rs`. A model the engine
//! cannot serve exactly stops the build here, with the file, line, node or operator named.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=ONNX_MODEL");
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let path = std::env::var_os("ONNX_MODEL").map_or_else(
        || root.join("../../models/breast-cancer-lr/model.toml"),
        PathBuf::from,
    );
    println!("cargo:rerun-if-changed={}", path.display());
    let model = match onnx_model::build::read_model(&path) {
        Ok(model) => model,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(1);
        }
    };
    if let Some(dir) = path.parent() {
        println!(
            "cargo:rerun-if-changed={}",
            dir.join(&model.description.onnx).display()
        );
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default()).join("model.rs");
    if let Err(error) = std::fs::write(&out, onnx_model::build::rust_source(&model)) {
        eprintln!("error: cannot write {}: {error}", out.display());
        std::process::exit(1);
    }
}
