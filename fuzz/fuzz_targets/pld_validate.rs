//! Payload validation against tractor's real specs and a few hard ones:
//! never panics, and the fast validator agrees with the reference walker
//! on every input (verdict and text).
#![no_main]
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use shuttle::pld_spec::PldSpec;

fn specs() -> &'static [PldSpec] {
    static SPECS: OnceLock<Vec<PldSpec>> = OnceLock::new();
    SPECS.get_or_init(|| {
        let structs = serde_json::json!({
            "Point": {"fields": [["x", "int"], ["y", "int", 0]]},
            "PldMsg": {"fields": [["field", "str"]]},
            "Cat": {"fields": [["name", "str"]], "tag": true},
            "Dog": {"fields": [["name", "str"], ["good", "bool", true]], "tag": true},
            "Arr": {"fields": [["a", "int"], ["b", "list[str]"]], "array_like": true, "forbid_unknown_fields": true},
            "Node": {"fields": [["value", "int"], ["children", "list[Node]", []]]},
        });
        [
            "Any", "int", "float", "str", "bytes", "None", "bool", "PldMsg | None", "Point | None",
            "Cat | Dog", "list[int | None]", "dict[str, list[float]]", "tuple[int, ...]",
            "tuple[int, str]", "Literal['a', 'b', 3]", "Arr", "Node", "dict[int, Point]",
        ]
        .iter()
        .map(|s| PldSpec::parse(s, &structs).expect("the fuzz specs are valid"))
        .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, payload)) = data.split_first() else { return };
    let specs = specs();
    let spec = &specs[pick as usize % specs.len()];
    let fast = spec.validate(payload).map_err(|e| e.msgspec_text());
    let reference = spec.validate_reference(payload).map_err(|e| e.msgspec_text());
    assert_eq!(fast, reference, "spec {}", pick as usize % specs.len());
});
