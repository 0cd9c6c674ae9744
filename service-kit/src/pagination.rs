//! `?page&per_page` and the `pagination` object of every list of both services: `page ≥ 1`,
//! `1 ≤ per_page ≤ 100` (default 20), `pages = ceil(total / per_page)`. One parameter struct,
//! one parser.

use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use crate::FieldError;

/// `?page&per_page` as sent. Values arrive as text and are checked by [`PageParams::parse`], so
/// that each invalid one is a 422 naming it (never a generic deserialisation error).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page number, from 1 [1]. A page past the end is empty.
    #[param(value_type = Option<u64>, minimum = 1, maximum = 1000000000)]
    pub page: Option<String>,
    /// Items per page, 1 to 100 [20].
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100)]
    pub per_page: Option<String>,
}

impl PageParams {
    /// The page asked for; every invalid parameter is a field error naming it.
    pub fn parse(&self) -> Result<Page, Vec<FieldError>> {
        let mut errors = Vec::new();
        let page = match self.page.as_deref().map(|p| parse_bounded(p, MAX_PAGE)) {
            None => 1,
            Some(Some(page)) => page,
            Some(None) => {
                errors.push(page_error());
                0
            }
        };
        let per_page = match self
            .per_page
            .as_deref()
            .map(|p| parse_bounded(p, MAX_PER_PAGE))
        {
            None => DEFAULT_PER_PAGE,
            Some(Some(per_page)) => per_page,
            Some(None) => {
                errors.push(per_page_error());
                0
            }
        };
        if errors.is_empty() {
            Page::new(page, per_page)
        } else {
            Err(errors)
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

pub const DEFAULT_PER_PAGE: u64 = 20;
pub const MAX_PER_PAGE: u64 = 100;
/// Far past any real list, and small enough that no offset overflows a database integer.
pub const MAX_PAGE: u64 = 1_000_000_000;

/// A validated page request: a page number from 1 and a page size from 1 to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    page: u64,
    per_page: u64,
}

impl Default for Page {
    fn default() -> Self {
        Page {
            page: 1,
            per_page: DEFAULT_PER_PAGE,
        }
    }
}

fn page_error() -> FieldError {
    FieldError::new(
        "page",
        format!("page must be an integer from 1 to {MAX_PAGE}"),
    )
}

fn per_page_error() -> FieldError {
    FieldError::new(
        "per_page",
        format!("per_page must be an integer from 1 to {MAX_PER_PAGE}"),
    )
}

impl Page {
    /// Every out-of-range value is a field error naming its parameter.
    pub fn new(page: u64, per_page: u64) -> Result<Page, Vec<FieldError>> {
        let mut errors = Vec::new();
        if !(1..=MAX_PAGE).contains(&page) {
            errors.push(page_error());
        }
        if !(1..=MAX_PER_PAGE).contains(&per_page) {
            errors.push(per_page_error());
        }
        if errors.is_empty() {
            Ok(Page { page, per_page })
        } else {
            Err(errors)
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

    pub fn pagination(&self, total: u64) -> Pagination {
        Pagination::new(*self, total)
    }
}

/// Where a page sits in the whole list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Pagination {
    #[schema(minimum = 1)]
    pub page: u64,
    #[schema(minimum = 1, maximum = 100)]
    pub per_page: u64,
    /// Items in the whole (filtered) list.
    pub total: u64,
    /// `ceil(total / per_page)`; 0 when the list is empty.
    pub pages: u64,
}

impl Pagination {
    pub fn new(page: Page, total: u64) -> Pagination {
        Pagination {
            page: page.page,
            per_page: page.per_page,
            total,
            pages: total.div_ceil(page.per_page),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(page: Option<&str>, per_page: Option<&str>) -> Result<Page, Vec<FieldError>> {
        PageParams {
            page: page.map(str::to_owned),
            per_page: per_page.map(str::to_owned),
        }
        .parse()
    }

    fn fields(result: Result<Page, Vec<FieldError>>) -> Vec<String> {
        result.unwrap_err().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn pages_are_counted_up_and_zero_when_empty() {
        let page = params(None, Some("10")).unwrap();
        assert_eq!(page.pagination(0).pages, 0);
        assert_eq!(page.pagination(1).pages, 1);
        assert_eq!(page.pagination(10).pages, 1);
        assert_eq!(page.pagination(11).pages, 2);
        assert_eq!(params(Some("3"), Some("10")).unwrap().offset(), 20);
        assert_eq!(page.pagination(100_000).pages, 10_000);
    }

    #[test]
    fn the_last_page_allowed_has_an_offset_a_database_takes() {
        let page = Page::new(MAX_PAGE, MAX_PER_PAGE).unwrap();
        assert!(i64::try_from(page.offset()).is_ok());
        assert!(params(Some(&i64::MAX.to_string()), Some("100")).is_err());
        assert!(page.is_past(3));
        assert!(!Page::default().is_past(1));
        assert!(Page::default().is_past(0));
    }

    #[test]
    fn absent_parameters_take_the_defaults() {
        assert_eq!(params(None, None).unwrap(), Page::default());
        assert_eq!(Page::default().per_page(), DEFAULT_PER_PAGE);
        let page = params(Some("2"), Some("100")).unwrap();
        assert_eq!((page.page(), page.per_page()), (2, 100));
    }

    #[test]
    fn invalid_parameters_are_named() {
        for bad in [
            "0",
            "-1",
            "abc",
            "",
            "1.5",
            "+1",
            " 1",
            "99999999999999999999999",
        ] {
            assert_eq!(fields(params(Some(bad), None)), ["page"], "{bad:?}");
        }
        for bad in ["0", "101", "x"] {
            assert_eq!(fields(params(None, Some(bad))), ["per_page"], "{bad:?}");
        }
        assert_eq!(fields(params(Some("x"), Some("y"))), ["page", "per_page"]);
        assert!(params(Some("1"), Some("100")).is_ok());
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Valid exactly when the contract says; the page count covers the total, tightly.
        #[test]
        fn pages_cover_the_total(page in any::<i64>(), per_page in any::<i64>(), total in 0u64..1_000_000) {
            let valid = (1..=MAX_PAGE as i64).contains(&page) && (1..=100).contains(&per_page);
            let parsed = PageParams {
                page: Some(page.to_string()),
                per_page: Some(per_page.to_string()),
            }
            .parse();
            match parsed {
                Ok(p) => {
                    prop_assert!(valid);
                    let pagination = p.pagination(total);
                    prop_assert!(pagination.pages * p.per_page() >= total);
                    prop_assert!(total == 0 || (pagination.pages - 1) * p.per_page() < total);
                    prop_assert_eq!(p.offset(), (p.page() - 1) * p.per_page());
                    prop_assert!(i64::try_from(p.offset()).is_ok());
                }
                Err(errors) => prop_assert!(!valid && !errors.is_empty()),
            }
        }
    }
}
