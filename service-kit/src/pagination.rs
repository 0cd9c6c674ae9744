//! `?page&per_page` and the `pagination` object of every list: `page ≥ 1`,
//! `1 ≤ per_page ≤ 100` (default 20), `pages = ceil(total / per_page)`.

use serde::Serialize;

use crate::FieldError;

pub const DEFAULT_PER_PAGE: u64 = 20;
pub const MAX_PER_PAGE: u64 = 100;
/// The largest `OFFSET` PostgreSQL and SQLite take (`i64::MAX`).
pub const MAX_OFFSET: u64 = i64::MAX as u64;

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub page: u64,
    pub per_page: u64,
}

impl Page {
    /// From the raw query values; every out-of-range value is a field error.
    pub fn from_query(page: Option<i64>, per_page: Option<i64>) -> Result<Page, Vec<FieldError>> {
        let mut errors = Vec::new();
        let page = match page {
            None => 1,
            Some(p) if p >= 1 => p.unsigned_abs(),
            Some(_) => {
                errors.push(FieldError::new("page", "must be at least 1"));
                1
            }
        };
        let per_page = match per_page {
            None => DEFAULT_PER_PAGE,
            Some(n) if (1..=MAX_PER_PAGE as i64).contains(&n) => n.unsigned_abs(),
            Some(_) => {
                errors.push(FieldError::new("per_page", "must be between 1 and 100"));
                DEFAULT_PER_PAGE
            }
        };
        if errors.is_empty() {
            Ok(Page { page, per_page })
        } else {
            Err(errors)
        }
    }

    /// Rows before this page. A page far past any list (`page` may be up to `i64::MAX`) is
    /// capped at the largest offset a database takes (a signed 64-bit integer): it is an empty
    /// page, never an overflow.
    pub fn offset(&self) -> u64 {
        (self.page - 1)
            .saturating_mul(self.per_page)
            .min(MAX_OFFSET)
    }

    pub fn limit(&self) -> u64 {
        self.per_page
    }

    pub fn pagination(&self, total: u64) -> Pagination {
        Pagination {
            page: self.page,
            per_page: self.per_page,
            total,
            pages: total.div_ceil(self.per_page),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Pagination {
    pub page: u64,
    pub per_page: u64,
    pub total: u64,
    pub pages: u64,
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
    fn a_page_far_past_the_end_has_an_offset_a_database_takes() {
        let page = Page::from_query(Some(i64::MAX), Some(100)).unwrap();
        assert_eq!(page.offset(), MAX_OFFSET);
        assert_eq!(page.pagination(3).page, i64::MAX as u64);
        let page = Page::from_query(Some(i64::MAX / 50), Some(100)).unwrap();
        assert!(i64::try_from(page.offset()).is_ok());
    }

    #[test]
    fn out_of_range_values_are_field_errors() {
        assert_eq!(
            Page::from_query(None, None).unwrap(),
            Page {
                page: 1,
                per_page: 20
            }
        );
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
            let valid = page >= 1 && (1..=100).contains(&per_page);
            match Page::from_query(Some(page), Some(per_page)) {
                Ok(p) => {
                    prop_assert!(valid);
                    let pagination = p.pagination(total);
                    prop_assert!(pagination.pages * p.per_page >= total);
                    prop_assert!(total == 0 || (pagination.pages - 1) * p.per_page < total);
                    let unbounded = (p.page - 1).saturating_mul(p.per_page);
                    prop_assert_eq!(p.offset(), unbounded.min(MAX_OFFSET));
                }
                Err(errors) => prop_assert!(!valid && !errors.is_empty()),
            }
        }
    }
}
