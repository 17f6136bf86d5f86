//! The case format `shuttle-cases/1` (`spec/conformance.md`): what one
//! conformance case feeds an implementation and what it expects back.

use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The format string of a case file.
pub const FORMAT: &str = "shuttle-cases/1";

/// One file of cases.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
pub struct CaseFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// What the file holds.
    #[serde(default)]
    pub description: String,
    /// The cases, in a stable order.
    pub cases: Vec<Case>,
}

/// How much a case matters.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// An implementation that fails it does not speak the protocol.
    Required,
    /// Behaviour tractor peers rely on in practice.
    Recommended,
    /// Matches msgspec's exact behaviour where the protocol does not care.
    Informational,
}

/// Where a case's data came from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub struct Provenance {
    /// `recorded` (from a running implementation), `msgspec` (decided by
    /// msgspec) or `synthetic` (built by the suite).
    pub source: String,
    /// Implementation that produced the bytes (`python-tractor`, `msgspec`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implementation: Option<String>,
    /// Its version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The recorded scenario or the source file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
}

/// One conformance case.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
pub struct Case {
    /// Stable hierarchical id, `/`-separated (`decode/recorded/spawn_teardown/ch0/3`).
    pub id: String,
    /// One line for humans.
    pub title: String,
    /// How much it matters.
    pub level: Level,
    /// The section of `spec/` it checks (`PROTOCOL.md#start`).
    pub section: String,
    /// Features the implementation must declare, beyond the one its kind needs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<crate::protocol::Feature>,
    /// Where its data came from.
    pub provenance: Provenance,
    /// What is fed and what is expected.
    #[serde(flatten)]
    pub body: CaseBody,
}

/// The four kinds of case.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum CaseBody {
    /// Bytes of one frame body → the decoded message (as its canonical
    /// re-encoding) or an error class.
    Decode {
        /// The frame body.
        #[serde(with = "b64")]
        #[schemars(with = "String")]
        bytes_b64: Vec<u8>,
        /// The expectation.
        expect: DecodeExpect,
    },
    /// A message given as a msgpack value (keys in any order, defaults
    /// omitted) → the exact bytes msgspec writes for it.
    Encode {
        /// msgpack of the message value handed to the implementation.
        #[serde(with = "b64")]
        #[schemars(with = "String")]
        message_b64: Vec<u8>,
        /// The exact expected body.
        #[serde(with = "b64")]
        #[schemars(with = "String")]
        expect_b64: Vec<u8>,
    },
    /// A payload checked against a payload spec → verdict and error text.
    Payload {
        /// Spec in Python annotation syntax.
        spec: String,
        /// Structs named by the spec.
        #[serde(default)]
        structs: serde_json::Value,
        /// The payload bytes.
        #[serde(with = "b64")]
        #[schemars(with = "String")]
        payload_b64: Vec<u8>,
        /// The expectation.
        expect: PayloadExpect,
    },
    /// The frames of one channel → accepted, or a violation at frame k.
    Dialog {
        /// Frames in order, with their sender.
        frames: Vec<DialogFrame>,
        /// The expectation.
        expect: DialogExpect,
    },
}

impl CaseBody {
    /// The feature a case of this kind needs.
    pub fn feature(&self) -> crate::protocol::Feature {
        use crate::protocol::Feature;
        match self {
            CaseBody::Decode { .. } => Feature::Decode,
            CaseBody::Encode { .. } => Feature::Encode,
            CaseBody::Payload { .. } => Feature::Payload,
            CaseBody::Dialog { .. } => Feature::Dialog,
        }
    }

    /// The kind's name, which is also the name of the feature it needs.
    pub fn kind(&self) -> &'static str {
        match self {
            CaseBody::Decode { .. } => "decode",
            CaseBody::Encode { .. } => "encode",
            CaseBody::Payload { .. } => "payload",
            CaseBody::Dialog { .. } => "dialog",
        }
    }
}

/// What decoding must give.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub struct DecodeExpect {
    /// The message's tag, when decoding succeeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msg_type: Option<String>,
    /// Its canonical re-encoding, when decoding succeeds.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "b64_opt")]
    #[schemars(with = "Option<String>")]
    pub canonical_b64: Option<Vec<u8>>,
    /// The error class, when decoding must fail: `ValidationError` (a
    /// well-formed value of the wrong shape) or `DecodeError` (malformed
    /// msgpack).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_class: Option<String>,
    /// msgspec's text for the error (shown, not compared).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_text: Option<String>,
}

/// What payload validation must give.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub struct PayloadExpect {
    /// Whether the payload conforms.
    pub ok: bool,
    /// The error class when it does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_class: Option<String>,
    /// msgspec's exact text when it does not (compared).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_text: Option<String>,
}

/// One frame of a dialog case.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub struct DialogFrame {
    /// `a` (the connecting end) or `b` (the accepting end).
    pub from: String,
    /// The frame body.
    #[serde(with = "b64")]
    #[schemars(with = "String")]
    pub bytes_b64: Vec<u8>,
}

/// What the dialog check must give.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub struct DialogExpect {
    /// Whether the channel follows the rules.
    pub accepted: bool,
    /// The index of the first frame that breaks them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame: Option<usize>,
    /// The violation code (compared only for testees declaring `dialog-codes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// Reads one case file.
pub fn read_file(path: &Path) -> anyhow::Result<CaseFile> {
    let text =
        std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Parses one case file.
pub fn parse(text: &str) -> anyhow::Result<CaseFile> {
    let file: CaseFile = serde_json::from_str(text)?;
    anyhow::ensure!(
        file.format == FORMAT,
        "unsupported format {:?} (expected {FORMAT:?})",
        file.format
    );
    Ok(file)
}

/// Writes a case file: one case per line, so that it diffs well.
pub fn to_text(file: &CaseFile) -> String {
    let mut out = String::from("{\n");
    out.push_str(&format!(
        " \"format\": {},\n",
        serde_json::to_string(&file.format).unwrap_or_default()
    ));
    out.push_str(&format!(
        " \"description\": {},\n \"cases\": [\n",
        serde_json::to_string(&file.description).unwrap_or_default()
    ));
    for (i, case) in file.cases.iter().enumerate() {
        out.push_str("  ");
        out.push_str(&serde_json::to_string(case).unwrap_or_default());
        out.push_str(if i + 1 < file.cases.len() {
            ",\n"
        } else {
            "\n"
        });
    }
    out.push_str(" ]\n}\n");
    out
}

/// The `*.json` files directly in `dir`, sorted by name.
pub fn json_files(dir: &Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    Ok(paths)
}

/// A suite: cases from several files, ids unique.
#[derive(Clone, Debug, Default)]
pub struct Suite {
    /// Every case, in file order.
    pub cases: Vec<Case>,
}

impl Suite {
    /// Loads every `*.json` case file under `dir`.
    pub fn load_dir(dir: &Path) -> anyhow::Result<Suite> {
        let mut suite = Suite::default();
        for p in json_files(dir)? {
            suite.add(read_file(&p)?)?;
        }
        Ok(suite)
    }

    /// The suite compiled into this binary (`fixtures/cases/`).
    pub fn embedded() -> anyhow::Result<Suite> {
        let mut suite = Suite::default();
        for (name, text) in EMBEDDED {
            suite.add(parse(text).map_err(|e| anyhow::anyhow!("embedded {name}: {e}"))?)?;
        }
        Ok(suite)
    }

    fn add(&mut self, file: CaseFile) -> anyhow::Result<()> {
        self.cases.extend(file.cases);
        let mut ids: Vec<&str> = self.cases.iter().map(|c| c.id.as_str()).collect();
        ids.sort_unstable();
        if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
            anyhow::bail!("duplicate case id {}", w[0]);
        }
        Ok(())
    }
}

/// The case files compiled into the binary (every file `import` writes;
/// a test checks the two lists agree).
macro_rules! embedded {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../fixtures/cases/", $name)))),*]
    };
}

/// The case files compiled into the binary.
pub const EMBEDDED: &[(&str, &str)] = embedded!(
    "decode-recorded.json",
    "decode-synthetic.json",
    "encode.json",
    "payload.json",
    "dialog.json",
    "dialog-mutated.json",
    "legacy-dict.json",
);

/// Base64 (standard, padded) for byte fields.
mod b64 {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(v))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(s)
            .map_err(serde::de::Error::custom)
    }
}

mod b64_opt {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => super::b64::serialize(v, s),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        #[derive(Deserialize)]
        struct W(#[serde(with = "super::b64")] Vec<u8>);
        Ok(Option::<W>::deserialize(d)?.map(|w| w.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_needing_a_misspelled_feature_is_refused_by_name() {
        let (_, text) = EMBEDDED
            .iter()
            .find(|(name, _)| *name == "legacy-dict.json")
            .unwrap();
        assert!(parse(text).is_ok());
        let typo = text.replacen("\"legacy-dict\"]", "\"legacy-dikt\"]", 1);
        assert_ne!(&typo, text);
        let err = parse(&typo).unwrap_err().to_string();
        assert!(err.contains("legacy-dikt"), "{err}");
    }
}
