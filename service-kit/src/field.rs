//! A JSON member that may be absent, `null`, or a value: the three mean different things (an
//! omitted PATCH field is left alone, a `null` one cleared or refused, a value set). Both
//! services read their bodies' optional members with it.

use serde::{Deserialize, Deserializer};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field<T> {
    /// The member was not sent.
    Missing,
    /// The member was sent as `null`.
    Null,
    Value(T),
}

impl<T> Field<T> {
    /// As a change to apply: `None` leaves the value, `Some(None)` clears it, `Some(Some(v))`
    /// sets it.
    pub fn into_change(self) -> Option<Option<T>> {
        match self {
            Field::Missing => None,
            Field::Null => Some(None),
            Field::Value(value) => Some(Some(value)),
        }
    }
}

/// Absent members deserialize as [`Field::Missing`] (with `#[serde(default)]` on the member).
impl<T> Default for Field<T> {
    fn default() -> Self {
        Field::Missing
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer)? {
            None => Field::Null,
            Some(value) => Field::Value(value),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Body {
        #[serde(default)]
        title: Field<String>,
    }

    #[test]
    fn absent_null_and_value_are_told_apart() {
        let parse = |json: &str| serde_json::from_str::<Body>(json).map(|b| b.title);
        assert_eq!(parse("{}").ok(), Some(Field::Missing));
        assert_eq!(parse(r#"{"title": null}"#).ok(), Some(Field::Null));
        assert_eq!(
            parse(r#"{"title": "a"}"#).ok(),
            Some(Field::Value("a".to_owned()))
        );
        assert!(parse(r#"{"title": 5}"#).is_err());
        assert_eq!(Field::<u8>::Missing.into_change(), None);
        assert_eq!(Field::<u8>::Null.into_change(), Some(None));
        assert_eq!(Field::Value(1).into_change(), Some(Some(1)));
    }
}
