//! Which slice of a list a client asked for: a page (service-kit's one parser) and filters.

use service_kit::FieldError;

use super::Invalid;

pub use service_kit::pagination::{Page, Pagination};

/// A list request: the page, and filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    pub page: Page,
    /// Only completed (`true`) or open (`false`) todos.
    pub completed: Option<bool>,
    /// Only this owner's todos (admin lists).
    pub user_id: Option<String>,
}

impl ListQuery {
    /// From the parsed page and the raw filters; every invalid parameter is reported, by its
    /// name.
    pub fn parse(
        page: Result<Page, Vec<FieldError>>,
        completed: Option<&str>,
        user_id: Option<&str>,
    ) -> Result<ListQuery, Invalid> {
        let (page, mut errors) = match page {
            Ok(page) => (Some(page), Vec::new()),
            Err(errors) => (None, errors),
        };
        let completed = match completed {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(_) => {
                errors.push(FieldError::new(
                    "completed",
                    "completed must be `true` or `false`",
                ));
                None
            }
        };
        if user_id.is_some_and(|u| u.contains('\0')) {
            errors.push(FieldError::new(
                "user_id",
                "user_id must not contain NUL characters",
            ));
        }
        match page {
            Some(page) if errors.is_empty() => Ok(ListQuery {
                page,
                completed,
                user_id: user_id.map(str::to_owned),
            }),
            _ => Err(Invalid(errors)),
        }
    }
}

#[cfg(test)]
mod tests {
    use service_kit::pagination::PageParams;

    use super::*;

    fn parse(
        page: Option<&str>,
        per_page: Option<&str>,
        completed: Option<&str>,
        user_id: Option<&str>,
    ) -> Result<ListQuery, Invalid> {
        let params = PageParams {
            page: page.map(str::to_owned),
            per_page: per_page.map(str::to_owned),
        };
        ListQuery::parse(params.parse(), completed, user_id)
    }

    fn fields(result: Result<ListQuery, Invalid>) -> Vec<String> {
        result.unwrap_err().0.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn defaults_apply_to_absent_parameters() {
        let query = parse(None, None, None, None).unwrap();
        assert_eq!(query, ListQuery::default());
        assert_eq!(query.page.per_page(), 20);
        let query = parse(Some("2"), Some("100"), Some("false"), Some("u1")).unwrap();
        assert_eq!((query.page.page(), query.page.per_page()), (2, 100));
        assert_eq!(query.completed, Some(false));
        assert_eq!(query.user_id.as_deref(), Some("u1"));
    }

    #[test]
    fn invalid_filters_are_named_with_invalid_pages() {
        assert_eq!(fields(parse(None, None, Some("yes"), None)), ["completed"]);
        assert_eq!(fields(parse(None, None, Some("TRUE"), None)), ["completed"]);
        assert_eq!(fields(parse(None, None, None, Some("a\0"))), ["user_id"]);
        assert_eq!(
            fields(parse(Some("x"), Some("y"), Some("z"), None)),
            ["page", "per_page", "completed"]
        );
    }
}
