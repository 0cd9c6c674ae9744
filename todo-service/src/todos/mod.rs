//! The todo domain: what a todo is, which input makes a valid one, how lists are paged and what
//! a report holds. Nothing here knows HTTP or SQL.

mod page;

use service_kit::FieldError;
use service_kit::text::TrimmedText;
use service_kit::timestamp::Timestamp;

pub use page::{ListQuery, Page, Pagination};
pub use service_kit::field::Field;

/// A title is 1 to this many characters once trimmed.
pub const MAX_TITLE_CHARS: usize = 255;
/// The title rule: trimmed, 1 to 255 characters, no NUL.
pub const TITLE: TrimmedText = TrimmedText {
    max_chars: MAX_TITLE_CHARS,
    required: true,
};
/// A description is at most this many characters.
pub const MAX_DESCRIPTION_CHARS: usize = 10_000;

/// A todo's id: a UUID v7 (time-ordered) in its canonical lower-case hyphenated form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TodoId(String);

impl TodoId {
    pub fn generate() -> TodoId {
        TodoId(uuid::Uuid::now_v7().hyphenated().to_string())
    }

    /// Only the canonical form names a todo; anything else (another spelling of a UUID, or
    /// not a UUID at all) names none.
    pub fn parse(raw: &str) -> Option<TodoId> {
        let canonical = uuid::Uuid::try_parse(raw).ok()?.hyphenated().to_string();
        (canonical == raw).then_some(TodoId(canonical))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// An id as the store holds it: written by [`TodoId::generate`], so trusted as it is.
    pub fn from_stored(id: String) -> TodoId {
        TodoId(id)
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for TodoId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A stored todo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Todo {
    pub id: TodoId,
    pub user_id: String,
    pub title: String,
    pub description: String,
    pub completed: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One page of todos and where it sits in the whole list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TodoPage {
    pub todos: Vec<Todo>,
    pub pagination: Pagination,
}

/// Every rule an input breaks, one field error each (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} invalid field(s)", .0.len())]
pub struct Invalid(pub Vec<FieldError>);

/// A todo's fields as a client sent them, before any rule is checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TodoInput {
    pub title: Field<String>,
    pub description: Field<String>,
    pub completed: Field<bool>,
}

/// A complete, valid set of fields: a todo to create, or the replacement of one (PUT).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTodo {
    title: String,
    description: String,
    completed: bool,
}

impl NewTodo {
    /// Title required; an omitted description is `""` and an omitted `completed` is `false`;
    /// `null` is never a value.
    pub fn validate(input: TodoInput) -> Result<NewTodo, Invalid> {
        let mut violations = Vec::new();
        let title = match input.title {
            Field::Missing => {
                violations.push(FieldError::new("title", "title is required"));
                None
            }
            field => title(field, &mut violations),
        };
        let description = description(input.description, &mut violations);
        let completed = completed(input.completed, &mut violations);
        match title {
            Some(title) if violations.is_empty() => Ok(NewTodo {
                title,
                description: description.unwrap_or_default(),
                completed: completed.unwrap_or(false),
            }),
            _ => Err(Invalid(violations)),
        }
    }

    pub fn title(&self) -> &str {
        &self.title
    }

    pub fn description(&self) -> &str {
        &self.description
    }

    pub fn completed(&self) -> bool {
        self.completed
    }
}

/// A valid partial change (PATCH): only the fields sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TodoPatch {
    title: Option<String>,
    description: Option<String>,
    completed: Option<bool>,
}

impl TodoPatch {
    pub fn validate(input: TodoInput) -> Result<TodoPatch, Invalid> {
        let mut violations = Vec::new();
        let patch = TodoPatch {
            title: title(input.title, &mut violations),
            description: description(input.description, &mut violations),
            completed: completed(input.completed, &mut violations),
        };
        if violations.is_empty() {
            Ok(patch)
        } else {
            Err(Invalid(violations))
        }
    }

    /// `{}`: nothing to change.
    pub fn is_empty(&self) -> bool {
        self.title.is_none() && self.description.is_none() && self.completed.is_none()
    }

    pub fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }

    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    pub fn completed(&self) -> Option<bool> {
        self.completed
    }
}

impl From<NewTodo> for TodoPatch {
    /// A replacement is a change of every field.
    fn from(todo: NewTodo) -> Self {
        TodoPatch {
            title: Some(todo.title),
            description: Some(todo.description),
            completed: Some(todo.completed),
        }
    }
}

/// `None` when absent or invalid (the violation recorded); the trimmed title otherwise.
fn title(field: Field<String>, violations: &mut Vec<FieldError>) -> Option<String> {
    let raw = match field {
        Field::Missing => return None,
        Field::Null => {
            violations.push(FieldError::new("title", "title must be a string, not null"));
            return None;
        }
        Field::Value(raw) => raw,
    };
    match TITLE.check("title", &raw) {
        Ok(trimmed) => Some(trimmed.to_owned()),
        Err(error) => {
            violations.push(error);
            None
        }
    }
}

fn description(field: Field<String>, violations: &mut Vec<FieldError>) -> Option<String> {
    let raw = match field {
        Field::Missing => return None,
        Field::Null => {
            violations.push(FieldError::new(
                "description",
                "description must be a string, not null (omit it or send \"\")",
            ));
            return None;
        }
        Field::Value(raw) => raw,
    };
    let chars = raw.chars().count();
    if chars > MAX_DESCRIPTION_CHARS {
        violations.push(FieldError::new(
            "description",
            format!(
                "description must be at most {MAX_DESCRIPTION_CHARS} characters (it has {chars})"
            ),
        ));
        None
    } else if raw.contains('\0') {
        violations.push(FieldError::new(
            "description",
            "description must not contain NUL characters",
        ));
        None
    } else {
        Some(raw)
    }
}

fn completed(field: Field<bool>, violations: &mut Vec<FieldError>) -> Option<bool> {
    match field {
        Field::Missing => None,
        Field::Null => {
            violations.push(FieldError::new(
                "completed",
                "completed must be true or false, not null",
            ));
            None
        }
        Field::Value(value) => Some(value),
    }
}

/// How many todos one owner has, and how many of them are completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerTally {
    pub user_id: String,
    pub todos: u64,
    pub completed: u64,
}

/// Counts over every user's todos.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Distinct owners of at least one todo.
    pub users: u64,
    pub todos: u64,
    pub completed: u64,
    /// By `todos` descending, then `user_id` ascending.
    pub per_user: Vec<OwnerTally>,
}

impl Report {
    /// The totals follow from the per-owner counts (one aggregate query, one snapshot).
    pub fn from_tallies(per_user: Vec<OwnerTally>) -> Report {
        Report {
            users: per_user.len() as u64,
            todos: per_user.iter().map(|t| t.todos).sum(),
            completed: per_user.iter().map(|t| t.completed).sum(),
            per_user,
        }
    }
}

#[cfg(test)]
mod properties;

#[cfg(test)]
mod tests {
    use super::*;

    fn input(
        title: Field<String>,
        description: Field<String>,
        completed: Field<bool>,
    ) -> TodoInput {
        TodoInput {
            title,
            description,
            completed,
        }
    }

    fn value(s: &str) -> Field<String> {
        Field::Value(s.to_owned())
    }

    fn fields(result: Result<impl std::fmt::Debug, Invalid>) -> Vec<String> {
        match result {
            Ok(ok) => panic!("expected violations, got {ok:?}"),
            Err(Invalid(v)) => v.into_iter().map(|v| v.field).collect(),
        }
    }

    #[test]
    fn a_new_todo_takes_defaults_for_omitted_fields_and_a_trimmed_title() {
        let todo = NewTodo::validate(input(
            value("  Buy milk \n"),
            Field::Missing,
            Field::Missing,
        ))
        .unwrap();
        assert_eq!(todo.title(), "Buy milk");
        assert_eq!(todo.description(), "");
        assert!(!todo.completed());
    }

    #[test]
    fn title_length_counts_characters_after_trimming() {
        let max = "é".repeat(MAX_TITLE_CHARS);
        assert!(
            NewTodo::validate(input(
                value(&format!("  {max}  ")),
                Field::Missing,
                Field::Missing
            ))
            .is_ok()
        );
        let over = "é".repeat(MAX_TITLE_CHARS + 1);
        assert_eq!(
            fields(NewTodo::validate(input(
                value(&over),
                Field::Missing,
                Field::Missing
            ))),
            ["title"]
        );
        assert_eq!(
            fields(NewTodo::validate(input(
                value(" \t\u{1f}\u{3000} "),
                Field::Missing,
                Field::Missing
            ))),
            ["title"]
        );
    }

    #[test]
    fn every_broken_rule_is_reported() {
        let result = NewTodo::validate(input(
            Field::Missing,
            value(&"x".repeat(MAX_DESCRIPTION_CHARS + 1)),
            Field::Null,
        ));
        assert_eq!(fields(result), ["title", "description", "completed"]);
        assert_eq!(
            fields(NewTodo::validate(input(
                Field::Null,
                Field::Null,
                Field::Missing
            ))),
            ["title", "description"]
        );
        assert_eq!(
            fields(NewTodo::validate(input(
                value("a\0b"),
                value("c\0"),
                Field::Missing
            ))),
            ["title", "description"]
        );
    }

    #[test]
    fn a_description_of_exactly_the_limit_is_kept_as_sent() {
        let text = format!(" {} ", "ß".repeat(MAX_DESCRIPTION_CHARS - 2));
        let todo = NewTodo::validate(input(value("t"), value(&text), Field::Value(true))).unwrap();
        assert_eq!(todo.description(), text);
        assert!(todo.completed());
    }

    #[test]
    fn a_patch_takes_any_subset_but_never_null() {
        assert!(
            TodoPatch::validate(TodoInput::default())
                .unwrap()
                .is_empty()
        );
        let patch =
            TodoPatch::validate(input(Field::Missing, Field::Missing, Field::Value(true))).unwrap();
        assert_eq!(patch.completed(), Some(true));
        assert_eq!(patch.title(), None);
        assert_eq!(
            fields(TodoPatch::validate(input(
                Field::Null,
                Field::Missing,
                Field::Null
            ))),
            ["title", "completed"]
        );
        assert_eq!(
            fields(TodoPatch::validate(input(
                value("   "),
                Field::Missing,
                Field::Missing
            ))),
            ["title"]
        );
    }

    #[test]
    fn only_canonical_uuids_are_ids() {
        let id = TodoId::generate();
        assert_eq!(TodoId::parse(id.as_str()), Some(id.clone()));
        assert_eq!(TodoId::parse(&id.as_str().to_uppercase()), None);
        assert_eq!(TodoId::parse(&id.as_str().replace('-', "")), None);
        assert_eq!(TodoId::parse("not-an-id"), None);
        assert_eq!(TodoId::parse(""), None);
    }

    #[test]
    fn report_totals_follow_from_the_tallies() {
        let report = Report::from_tallies(vec![
            OwnerTally {
                user_id: "a".into(),
                todos: 3,
                completed: 1,
            },
            OwnerTally {
                user_id: "b".into(),
                todos: 2,
                completed: 2,
            },
        ]);
        assert_eq!((report.users, report.todos, report.completed), (2, 5, 3));
        assert_eq!(Report::from_tallies(vec![]).users, 0);
    }
}
