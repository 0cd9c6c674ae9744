//! `?page&per_page` and the `pagination` object of every list: `page ≥ 1`,
//! `1 ≤ per_page ≤ 100` (default 20), `pages = ceil(total / per_page)`.

use serde::Serialize;

use crate::FieldError;

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

    /// From query values already read as integers; absent ones take the defaults.
    pub fn from_query(page: Option<i64>, per_page: Option<i64>) -> Result<Page, Vec<FieldError>> {
        let unsigned = |value: Option<i64>, default: u64| match value {
            None => default,
            Some(v) => u64::try_from(v).unwrap_or(0),
        };
        Page::new(unsigned(page, 1), unsigned(per_page, DEFAULT_PER_PAGE))
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Pagination {
    pub page: u64,
    pub per_page: u64,
    pub total: u64,
    /// `ceil(total / per_page)`; 0 for an empty list.
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

    #[test]
    fn pages_are_counted_up_and_zero_when_empty() {
        let page = Page::from_query(None, Some(10)).unwrap();
        assert_eq!(page.pagination(0).pages, 0);
        assert_eq!(page.pagination(1).pages, 1);
        assert_eq!(page.pagination(10).pages, 1);
        assert_eq!(page.pagination(11).pages, 2);
        assert_eq!(Page::from_query(Some(3), Some(10)).unwrap().offset(), 20);
    }

    #[test]
    fn the_last_page_allowed_has_an_offset_a_database_takes() {
        let page = Page::new(MAX_PAGE, MAX_PER_PAGE).unwrap();
        assert!(i64::try_from(page.offset()).is_ok());
        assert!(Page::from_query(Some(i64::MAX), Some(100)).is_err());
        assert!(page.is_past(3));
        assert!(!Page::default().is_past(1));
        assert!(Page::default().is_past(0));
    }

    #[test]
    fn out_of_range_values_are_field_errors() {
        assert_eq!(Page::from_query(None, None).unwrap(), Page::default());
        assert!(Page::from_query(Some(0), None).is_err());
        assert!(Page::from_query(None, Some(0)).is_err());
        assert!(Page::from_query(None, Some(101)).is_err());
        assert_eq!(Page::from_query(Some(0), Some(0)).unwrap_err().len(), 2);
        assert!(Page::from_query(Some(1), Some(100)).is_ok());
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
            match Page::from_query(Some(page), Some(per_page)) {
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
