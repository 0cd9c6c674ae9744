//! Short texts stored trimmed — a todo's title, a person's names — checked by one rule whose
//! published pattern is generated from the same bounds, so the Rust check and the OpenAPI
//! document cannot drift apart.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};

use crate::FieldError;

/// The characters that count as blank at either end: Unicode's white space, and U+001C–U+001F,
/// which most regular-expression engines count as `\s` too (so a client validating with the
/// published pattern agrees with the server whatever its engine).
const BLANK_CLASS: &str =
    r"\t-\r\x1c-\x20\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";

/// Whether `c` is trimmed off the ends of a [`TrimmedText`].
pub fn is_blank(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// A text stored trimmed: at most `max_chars` characters once its blank ends are cut, never a
/// NUL (which PostgreSQL cannot store); `required` texts must keep at least one character,
/// others may be blank (meaning none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrimmedText {
    pub max_chars: usize,
    pub required: bool,
}

impl TrimmedText {
    /// The trimmed text, or the field error naming `field`.
    pub fn check<'a>(&self, field: &str, raw: &'a str) -> Result<&'a str, FieldError> {
        let trimmed = raw.trim_matches(is_blank);
        let chars = trimmed.chars().count();
        let problem = if self.required && chars == 0 {
            format!("{field} must not be empty")
        } else if chars > self.max_chars {
            format!(
                "{field} must be at most {} characters (it has {chars})",
                self.max_chars
            )
        } else if trimmed.contains('\0') {
            format!("{field} must not contain NUL characters")
        } else {
            return Ok(trimmed);
        };
        Err(FieldError::new(field, problem))
    }

    /// The regular expression (ECMA-262, as OpenAPI 3.1 patterns are) of exactly the texts
    /// [`TrimmedText::check`] accepts: blank ends are free, the rest is bounded.
    pub fn pattern(&self) -> String {
        let inner = self.max_chars.saturating_sub(2);
        let core =
            format!(r"[^{BLANK_CLASS}\u0000](?:[^\u0000]{{0,{inner}}}[^{BLANK_CLASS}\u0000])?");
        let core = if self.required {
            core
        } else {
            format!("(?:{core})?")
        };
        format!("^[{BLANK_CLASS}]*{core}[{BLANK_CLASS}]*$")
    }

    /// The JSON schema of such a text: a string (or `null` when `nullable`) with the pattern,
    /// and `description`.
    pub fn schema(&self, nullable: bool, description: &str) -> RefOr<Schema> {
        let schema_type = if nullable {
            SchemaType::from_iter([Type::String, Type::Null])
        } else {
            SchemaType::new(Type::String)
        };
        let mut object = ObjectBuilder::new()
            .schema_type(schema_type)
            .description(Some(description))
            .pattern(Some(self.pattern()));
        if self.required {
            object = object.min_length(Some(1));
        }
        RefOr::T(Schema::Object(object.build()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TITLE: TrimmedText = TrimmedText {
        max_chars: 255,
        required: true,
    };
    const NAME: TrimmedText = TrimmedText {
        max_chars: 100,
        required: false,
    };

    #[test]
    fn the_check_trims_and_bounds() {
        assert_eq!(TITLE.check("title", "  Buy milk \u{3000}"), Ok("Buy milk"));
        assert_eq!(TITLE.check("title", "\u{1c}x\u{1f}"), Ok("x"));
        assert!(TITLE.check("title", " \t ").is_err());
        assert!(TITLE.check("title", &"x".repeat(256)).is_err());
        assert!(
            TITLE
                .check("title", &format!("  {}  ", "é".repeat(255)))
                .is_ok()
        );
        assert!(TITLE.check("title", "a\0b").is_err());
        assert_eq!(NAME.check("first_name", "   "), Ok(""));
        assert_eq!(
            NAME.check("first_name", &"x".repeat(101))
                .unwrap_err()
                .field,
            "first_name"
        );
    }

    #[test]
    fn the_title_pattern_is_the_one_published_before() {
        assert_eq!(
            TITLE.pattern(),
            r"^[\t-\r\x1c-\x20\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[^\t-\r\x1c-\x20\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000](?:[^\u0000]{0,253}[^\t-\r\x1c-\x20\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000])?[\t-\r\x1c-\x20\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
        );
        assert!(NAME.pattern().contains("(?:[^"));
        assert!(NAME.pattern().contains("{0,98}"));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    fn agree(rule: TrimmedText, text: &str) -> Result<(), TestCaseError> {
        let pattern =
            regex::Regex::new(&rule.pattern()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(
            pattern.is_match(text),
            rule.check("f", text).is_ok(),
            "{:?}",
            text
        );
        Ok(())
    }

    proptest! {
        /// The published pattern accepts exactly what the check accepts.
        #[test]
        fn the_pattern_and_the_check_agree(
            text in "[ \\t\\n\\x1c\\x1f\\u{3000}\\u{0}ab]{0,12}",
            max_chars in 2usize..6,
            required: bool,
        ) {
            agree(TrimmedText { max_chars, required }, &text)?;
        }
    }
}
