//! Writes the generated files of `spec/` (JSON Schemas and the rendered
//! message documentation): `cargo run --example gen_schema [-- OUT_DIR]`.
//! The `shuttle schema --out DIR` command does the same.

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let out = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("spec"));
    for (name, content) in shuttle::schema::generate() {
        let path = out.join(&name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, content)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
