//! `msgspec.Meta(pattern=...)`: a Python `re` pattern matched as
//! `re.search` does, by the `regex` crate (linear time, whatever the input).
//!
//! The two syntaxes agree on the usual patterns; where they differ in
//! meaning, the Python pattern is rewritten: outside multi-line mode `$`
//! also matches before a final newline (`(?:\n?\z)`), and `\Z` is the end
//! of the text (`\z`). What the crate cannot express (look-around,
//! backreferences, possessive quantifiers) is refused when the spec is
//! parsed, with the crate's reason.

/// Compiles a Python pattern, or says why it cannot be matched.
pub(crate) fn compile(pattern: &str) -> Result<::regex::Regex, String> {
    let translated = translate(pattern);
    ::regex::RegexBuilder::new(&translated)
        // Bounded compilation for hostile patterns.
        .size_limit(1 << 20)
        .nest_limit(64)
        .build()
        .map_err(|e| format!("pattern {pattern:?} is not supported: {e}"))
}

/// Rewrites the constructs whose meaning differs between Python's `re`
/// and the `regex` crate.
fn translate(pattern: &str) -> String {
    let multiline = pattern.contains("(?m") || pattern.contains("(?im") || pattern.contains("(?sm");
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut chars = pattern.chars();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('Z') if !in_class => out.push_str(r"\z"),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            },
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                // A `]` or `^]` right after the bracket is a literal.
                let rest = chars.as_str();
                if let Some(r) = rest.strip_prefix("^]") {
                    out.push_str(r"^\]");
                    chars = r.chars();
                } else if let Some(r) = rest.strip_prefix(']') {
                    out.push_str(r"\]");
                    chars = r.chars();
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '$' if !in_class && !multiline => out.push_str(r"(?:\n?\z)"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::compile;

    #[test]
    fn dollar_matches_before_a_final_newline_as_in_python() {
        let r = compile("^a$").unwrap();
        assert!(r.is_match("a"));
        assert!(r.is_match("a\n"));
        assert!(!r.is_match("a\n\n"));
        let z = compile(r"^a\Z").unwrap();
        assert!(z.is_match("a"));
        assert!(!z.is_match("a\n"));
        // Inside a class `$` is a character.
        assert!(compile("^[$]$").unwrap().is_match("$"));
        assert!(compile(r"^[]a]$").unwrap().is_match("]"));
    }

    #[test]
    fn what_the_crate_cannot_match_is_refused() {
        let e = compile("(?=a)").unwrap_err();
        assert!(e.contains("not supported"), "{e}");
        assert!(compile(r"(a)\1").is_err());
    }
}
