//! `?page&per_page` and the `pagination` object of every list: `page ≥ 1`,
//! `1 ≤ per_page ≤ 100` (default 20), `pages = ceil(total / per_page)`.

use serde::Serialize;

use crate::FieldError;

pub const DEFAULT_PER_PAGE: u64 = 20;
pub const MAX_PER_PAGE: u64 = 100;

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

    pub fn offset(&self) -> u64 {
        (self.page - 1).saturating_mul(self.per_page)
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
