//! Which slice of a list a client asked for, and the arithmetic of pages.

use super::{Invalid, Violation};

pub const DEFAULT_PER_PAGE: u64 = 20;
pub const MAX_PER_PAGE: u64 = 100;
/// Far past any real list, and small enough that no offset overflows a database integer.
pub const MAX_PAGE: u64 = 1_000_000_000;

/// A page number (from 1) and a page size (1 to [`MAX_PER_PAGE`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    page: u64,
    per_page: u64,
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest {
            page: 1,
            per_page: DEFAULT_PER_PAGE,
        }
    }
}

impl PageRequest {
    pub fn new(page: u64, per_page: u64) -> Result<PageRequest, Invalid> {
        let mut violations = Vec::new();
        if !(1..=MAX_PAGE).contains(&page) {
            violations.push(page_violation());
        }
        if !(1..=MAX_PER_PAGE).contains(&per_page) {
            violations.push(per_page_violation());
        }
        if violations.is_empty() {
            Ok(PageRequest { page, per_page })
        } else {
            Err(Invalid(violations))
        }
    }

    pub fn page(&self) -> u64 {
        self.page
    }

    pub fn per_page(&self) -> u64 {
        self.per_page
    }

    /// Rows before this page.
    pub fn offset(&self) -> u64 {
        (self.page - 1).saturating_mul(self.per_page)
    }

    pub fn limit(&self) -> u64 {
        self.per_page
    }

    /// Whether this page starts at or after the end of a list of `total` items (and so is
    /// empty without asking the database).
    pub fn is_past(&self, total: u64) -> bool {
        self.offset() >= total
    }
}

/// `{page, per_page, total, pages}` of a list response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pagination {
    pub page: u64,
    pub per_page: u64,
    pub total: u64,
    /// `ceil(total / per_page)`; 0 for an empty list.
    pub pages: u64,
}

impl Pagination {
    pub fn new(request: PageRequest, total: u64) -> Pagination {
        Pagination {
            page: request.page,
            per_page: request.per_page,
            total,
            pages: total.div_ceil(request.per_page),
        }
    }
}

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
                page: PageRequest { page, per_page },
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
