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
            "Color": {"kind": "enum", "members": {"RED": "red", "GREEN": "green"}},
            "Movie": {"kind": "typeddict", "fields": [["title", "str"], ["year", "typing.NotRequired[int]"]]},
            "Pair": {"kind": "namedtuple", "fields": [["a", "int"], ["b", "str", "x"]]},
        });
        [
            "Any", "int", "float", "str", "bytes", "None", "bool", "PldMsg | None", "Point | None",
            "Cat | Dog", "list[int | None]", "dict[str, list[float]]", "tuple[int, ...]",
            "tuple[int, str]", "Literal['a', 'b', 3]", "Arr", "Node", "dict[int, Point]",
            // The types beyond the first grammar.
            "set[Any]", "frozenset[tuple[int, Any]]", "dict[tuple[Any, ...], int]",
            "datetime.datetime | None", "datetime.time", "datetime.timedelta", "uuid.UUID",
            "decimal.Decimal", "bytearray", "msgspec.msgpack.Ext | str", "msgspec.Raw",
            "typing.Annotated[int, msgspec.Meta(ge=0, le=255)]",
            "typing.Annotated[float, msgspec.Meta(gt=0, multiple_of=0.5)]",
            "typing.Annotated[str, msgspec.Meta(min_length=1, max_length=4, pattern='^[a-z]')]",
            "typing.Annotated[list[int], msgspec.Meta(max_length=3)]",
            "typing.Annotated[datetime.datetime, msgspec.Meta(tz=True)]",
            "Color | None", "Movie", "Pair", "set[Pair]",
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
