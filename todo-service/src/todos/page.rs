//! Which slice of a list a client asked for, and the arithmetic of pages.

use super::{Invalid, Violation};

pub use service_kit::pagination::{
    DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE, Page as PageRequest, Pagination,
};

/// A list request: the page, and filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    pub page: PageRequest,
    /// Only completed (`true`) or open (`false`) todos.
    pub completed: Option<bool>,
    /// Only this owner's todos (admin lists).
    pub user_id: Option<String>,
}

impl ListQuery {
    /// From the raw query parameters; every invalid one is reported, by its name.
    pub fn parse(
        page: Option<&str>,
        per_page: Option<&str>,
        completed: Option<&str>,
        user_id: Option<&str>,
    ) -> Result<ListQuery, Invalid> {
        let mut violations = Vec::new();
        let page = match page.map(|p| parse_bounded(p, MAX_PAGE)) {
            None => Some(1),
            Some(Some(page)) => Some(page),
            Some(None) => {
                violations.push(page_violation());
                None
            }
        };
        let per_page = match per_page.map(|p| parse_bounded(p, MAX_PER_PAGE)) {
            None => Some(DEFAULT_PER_PAGE),
            Some(Some(per_page)) => Some(per_page),
            Some(None) => {
                violations.push(per_page_violation());
                None
            }
        };
        let completed = match completed {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(_) => {
                violations.push(Violation::new(
                    "completed",
                    "completed must be `true` or `false`",
                ));
                None
            }
        };
        if user_id.is_some_and(|u| u.contains('\0')) {
            violations.push(Violation::new(
                "user_id",
                "user_id must not contain NUL characters",
            ));
        }
        match (page, per_page) {
            (Some(page), Some(per_page)) if violations.is_empty() => Ok(ListQuery {
                page: PageRequest::new(page, per_page)
                    .map_err(|_| Invalid(vec![page_violation(), per_page_violation()]))?,
                completed,
                user_id: user_id.map(str::to_owned),
            }),
            _ => Err(Invalid(violations)),
        }
    }
}

/// A decimal integer from 1 to `max`.
fn parse_bounded(raw: &str, max: u64) -> Option<u64> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse::<u64>().ok().filter(|n| (1..=max).contains(n))
}

fn page_violation() -> Violation {
    Violation::new(
        "page",
        format!("page must be an integer from 1 to {MAX_PAGE}"),
    )
}

fn per_page_violation() -> Violation {
    Violation::new(
        "per_page",
        format!("per_page must be an integer from 1 to {MAX_PER_PAGE}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(result: Result<ListQuery, Invalid>) -> Vec<&'static str> {
        result.unwrap_err().0.iter().map(|v| v.field).collect()
    }

    #[test]
    fn pages_are_the_ceiling_of_total_over_per_page() {
        let at = |page, per_page, total| {
            Pagination::new(PageRequest::new(page, per_page).unwrap(), total)
        };
        assert_eq!(at(1, 20, 0).pages, 0);
        assert_eq!(at(1, 20, 1).pages, 1);
        assert_eq!(at(1, 20, 20).pages, 1);
        assert_eq!(at(1, 20, 21).pages, 2);
        assert_eq!(at(3, 1, 100).pages, 100);
        assert_eq!(at(1, 100, 100_000).pages, 1_000);
    }

    #[test]
    fn offsets_and_pages_past_the_end() {
        let request = PageRequest::new(3, 10).unwrap();
        assert_eq!((request.offset(), request.limit()), (20, 10));
        assert!(!request.is_past(21));
        assert!(request.is_past(20));
        assert!(PageRequest::new(1, 20).unwrap().is_past(0));
        let last = PageRequest::new(MAX_PAGE, MAX_PER_PAGE).unwrap();
        assert!(last.offset() < i64::MAX as u64);
    }

    #[test]
    fn defaults_apply_to_absent_parameters() {
        let query = ListQuery::parse(None, None, None, None).unwrap();
        assert_eq!(query, ListQuery::default());
        assert_eq!(query.page.per_page(), 20);
        let query = ListQuery::parse(Some("2"), Some("100"), Some("false"), Some("u1")).unwrap();
        assert_eq!((query.page.page(), query.page.per_page()), (2, 100));
        assert_eq!(query.completed, Some(false));
        assert_eq!(query.user_id.as_deref(), Some("u1"));
    }

    #[test]
    fn invalid_parameters_are_named() {
        assert_eq!(
            fields(ListQuery::parse(Some("0"), None, None, None)),
            ["page"]
        );
        assert_eq!(
            fields(ListQuery::parse(Some("-1"), None, None, None)),
            ["page"]
        );
        assert_eq!(
            fields(ListQuery::parse(Some("abc"), None, None, None)),
            ["page"]
        );
        assert_eq!(
            fields(ListQuery::parse(Some(""), None, None, None)),
            ["page"]
        );
        assert_eq!(
            fields(ListQuery::parse(Some("1.5"), None, None, None)),
            ["page"]
        );
        assert_eq!(
            fields(ListQuery::parse(
                Some("99999999999999999999999"),
                None,
                None,
                None
            )),
            ["page"]
        );
        assert_eq!(
            fields(ListQuery::parse(None, Some("0"), None, None)),
            ["per_page"]
        );
        assert_eq!(
            fields(ListQuery::parse(None, Some("101"), None, None)),
            ["per_page"]
        );
        assert_eq!(
            fields(ListQuery::parse(None, None, Some("yes"), None)),
            ["completed"]
        );
        assert_eq!(
            fields(ListQuery::parse(None, None, Some("TRUE"), None)),
            ["completed"]
        );
        assert_eq!(
            fields(ListQuery::parse(None, None, None, Some("a\0"))),
            ["user_id"]
        );
        assert_eq!(
            fields(ListQuery::parse(Some("x"), Some("y"), Some("z"), None)),
            ["page", "per_page", "completed"]
        );
    }
}
