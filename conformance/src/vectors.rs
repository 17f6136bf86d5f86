//! The pld-vectors/1 file model (`fixtures/vectors/FORMAT.md`) and a runner
//! that checks every case against [`PldSpec`].
//!
//! ```no_run
//! use shuttle_conformance::vectors::{VectorFile, run};
//! let text = std::fs::read_to_string("fixtures/vectors/pld-vectors.json").unwrap();
//! let file = VectorFile::from_json(&text).unwrap();
//! let report = run(&file);
//! println!("{} of {} agree", report.agreed(), report.total());
//! ```

use base64::Engine;
use serde::{Deserialize, Serialize};

use shuttle::pld_spec::PldSpec;

/// The format string of pld-vectors/1 documents.
pub const FORMAT: &str = "pld-vectors/1";

/// Error types that come from the Python runtime rather than msgspec's
/// rules: for these only the verdict and the error type are compared.
pub const RUNTIME_ERROR_TYPES: &[&str] = &["RecursionError", "ValueError", "UnicodeDecodeError"];

/// A whole pld-vectors/1 document.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct VectorFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// Who decided the outcomes.
    #[serde(default)]
    pub source: serde_json::Value,
    /// The payload cases.
    pub cases: Vec<Case>,
    /// Specs msgspec refuses to build.
    #[serde(default)]
    pub invalid_specs: Vec<InvalidSpec>,
}

/// One payload case.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Case {
    /// Unique id.
    pub id: String,
    /// Topic.
    pub group: String,
    /// The spec, Python annotation syntax.
    pub spec: String,
    /// The struct table.
    #[serde(default)]
    pub structs: serde_json::Value,
    /// The payload, standard base64.
    pub payload_b64: String,
    /// msgspec's verdict.
    pub ok: bool,
    /// Exception class when not ok.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    /// `str(exc)` when not ok.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Python type of the decoded value when ok.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decoded_type: Option<String>,
    /// JSON form of the decoded value, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decoded: Option<serde_json::Value>,
    /// Python repr of the decoded value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decoded_repr: Option<String>,
}

/// A spec msgspec refuses.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct InvalidSpec {
    /// Unique id.
    pub id: String,
    /// Topic.
    pub group: String,
    /// The spec.
    pub spec: String,
    /// The struct table.
    #[serde(default)]
    pub structs: serde_json::Value,
    /// `struct-definition` or `decoder`.
    pub stage: String,
    /// Exception class.
    pub error_type: String,
    /// Full text.
    pub error: String,
    /// Text without the Python type rendering; compared.
    pub error_reason: String,
}

/// Why a vectors file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VectorsError {
    /// Not JSON of the expected shape.
    #[error("not a {FORMAT} document: {0}")]
    Json(#[from] serde_json::Error),
    /// Another format string.
    #[error("unsupported format {0:?} (expected {FORMAT:?})")]
    Format(String),
}

impl VectorFile {
    /// Parses a document and checks its format string.
    pub fn from_json(text: &str) -> Result<VectorFile, VectorsError> {
        let f: VectorFile = serde_json::from_str(text)?;
        if f.format != FORMAT {
            return Err(VectorsError::Format(f.format));
        }
        Ok(f)
    }
}

/// What our limiter said about one case or invalid spec.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// The case id.
    pub id: String,
    /// The case group.
    pub group: String,
    /// True when verdict, error type and (where compared) text agree.
    pub agrees: bool,
    /// True when the verdict (ok / not ok) agrees.
    pub verdict_agrees: bool,
    /// True when verdict, error type and error text are all identical,
    /// including the texts of Python runtime errors.
    pub exact: bool,
    /// What msgspec said: `ok` or `<ErrorType>: <text>`.
    pub expected: String,
    /// What we said, same form.
    pub got: String,
}

/// Per-case results of a whole file.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    /// One per case, in file order.
    pub cases: Vec<Outcome>,
    /// One per invalid spec, in file order.
    pub invalid_specs: Vec<Outcome>,
}

impl Report {
    /// Cases plus invalid specs.
    pub fn total(&self) -> usize {
        self.cases.len() + self.invalid_specs.len()
    }
    /// How many agree.
    pub fn agreed(&self) -> usize {
        self.cases
            .iter()
            .chain(&self.invalid_specs)
            .filter(|o| o.agrees)
            .count()
    }
    /// Every disagreement.
    pub fn disagreements(&self) -> impl Iterator<Item = &Outcome> {
        self.cases
            .iter()
            .chain(&self.invalid_specs)
            .filter(|o| !o.agrees)
    }
    /// True when everything agrees.
    pub fn all_agree(&self) -> bool {
        self.agreed() == self.total()
    }
}

fn render(ok: bool, ty: Option<&str>, text: Option<&str>) -> String {
    if ok {
        "ok".into()
    } else {
        format!("{}: {}", ty.unwrap_or("?"), text.unwrap_or("?"))
    }
}

/// Runs one case.
pub fn run_case(case: &Case) -> Outcome {
    let expected = render(case.ok, case.error_type.as_deref(), case.error.as_deref());
    let mk = |agrees: bool, verdict_agrees: bool, got: String| Outcome {
        id: case.id.clone(),
        group: case.group.clone(),
        agrees,
        verdict_agrees,
        exact: got == expected,
        expected: expected.clone(),
        got,
    };
    let payload = match base64::engine::general_purpose::STANDARD.decode(&case.payload_b64) {
        Ok(p) => p,
        Err(e) => return mk(false, false, format!("bad payload_b64: {e}")),
    };
    let spec = match PldSpec::parse(&case.spec, &case.structs) {
        Ok(s) => s,
        Err(e) => return mk(false, false, format!("spec refused: {e}")),
    };
    match spec.validate(&payload) {
        Ok(()) => mk(case.ok, case.ok, "ok".into()),
        Err(e) => {
            let ty = e.python_type();
            let text = e.msgspec_text();
            let got = render(false, Some(ty), Some(&text));
            if case.ok {
                return mk(false, false, got);
            }
            let same_type = case.error_type.as_deref() == Some(ty);
            let same_text =
                RUNTIME_ERROR_TYPES.contains(&ty) || case.error.as_deref() == Some(&text);
            mk(same_type && same_text, true, got)
        }
    }
}

/// Runs one invalid spec: it must be refused with the same error type and
/// reason.
pub fn run_invalid_spec(inv: &InvalidSpec) -> Outcome {
    let expected = format!("{}: {}", inv.error_type, inv.error_reason);
    let (agrees, verdict, got) = match PldSpec::parse(&inv.spec, &inv.structs) {
        Ok(_) => (false, false, "accepted".to_string()),
        Err(e) => (
            e.error_type() == inv.error_type && e.reason() == inv.error_reason,
            true,
            format!("{}: {}", e.error_type(), e.reason()),
        ),
    };
    Outcome {
        id: inv.id.clone(),
        group: inv.group.clone(),
        agrees,
        verdict_agrees: verdict,
        exact: agrees,
        expected,
        got,
    }
}

/// Runs every case and invalid spec of a file.
pub fn run(file: &VectorFile) -> Report {
    Report {
        cases: file.cases.iter().map(run_case).collect(),
        invalid_specs: file.invalid_specs.iter().map(run_invalid_spec).collect(),
    }
}
