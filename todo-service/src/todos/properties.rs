//! Properties of the todo rules, over generated input (proptest).

use proptest::prelude::*;

use super::Field;
use super::*;

fn text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 0..max).prop_map(|chars| chars.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Whatever arrives, the rules answer; what they accept is within the contract.
    #[test]
    fn accepted_todos_are_within_the_rules(title in text(300), description in text(300), completed in any::<bool>()) {
        let input = TodoInput {
            title: Field::Value(title),
            description: Field::Value(description),
            completed: Field::Value(completed),
        };
        if let Ok(todo) = NewTodo::validate(input) {
            let chars = todo.title().chars().count();
            prop_assert!((1..=MAX_TITLE_CHARS).contains(&chars));
            prop_assert_eq!(todo.title(), todo.title().trim());
            prop_assert!(!todo.title().contains('\0'));
            prop_assert!(todo.description().chars().count() <= MAX_DESCRIPTION_CHARS);
            prop_assert_eq!(todo.completed(), completed);
        }
    }

    /// Plain titles of 1–255 visible characters, padded with spaces, are accepted and trimmed.
    #[test]
    fn plain_titles_are_accepted_trimmed(core in "[a-zA-Z0-9][a-zA-Z0-9 ]{0,253}[a-zA-Z0-9]?", pad in " {0,5}") {
        let raw = format!("{pad}{core}{pad}");
        let input = TodoInput { title: Field::Value(raw), ..TodoInput::default() };
        let todo = NewTodo::validate(input)
            .map_err(|e| TestCaseError::fail(format!("refused: {e:?}")))?;
        prop_assert_eq!(todo.title(), core.trim());
        prop_assert_eq!(todo.description(), "");
        prop_assert!(!todo.completed());
    }

    /// Too long is refused, naming the field; so is `null` for any member.
    #[test]
    fn long_titles_and_nulls_are_refused(extra in 1usize..50) {
        let long = "x".repeat(MAX_TITLE_CHARS + extra);
        let input = TodoInput { title: Field::Value(long), ..TodoInput::default() };
        let Invalid(violations) = NewTodo::validate(input).unwrap_err();
        prop_assert_eq!(violations[0].field.as_str(), "title");
        let nulls = TodoInput { title: Field::Null, description: Field::Null, completed: Field::Null };
        prop_assert_eq!(TodoPatch::validate(nulls).unwrap_err().0.len(), 3);
    }
}
