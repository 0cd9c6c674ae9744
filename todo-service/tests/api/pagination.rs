//! Pagination arithmetic at the edges, ordering, the `completed` filter, invalid parameters.

use serde_json::{Value, json};
use service_kit::timestamp::Timestamp;

use crate::helpers::*;

#[track_caller]
fn assert_pagination(list: &Value, page: u64, per_page: u64, total: u64, pages: u64) {
    assert_eq!(
        list["pagination"],
        json!({"page": page, "per_page": per_page, "total": total, "pages": pages}),
        "{list}"
    );
}

#[tokio::test]
async fn no_todos_is_total_0_pages_0() {
    let app = TestApp::spawn().await;
    let user = app.user();
    let list = app.list(&user, "").await;
    assert_eq!(list["todos"], json!([]));
    assert_pagination(&list, 1, 20, 0, 0);
    let list = app.list(&user, "?page=3&per_page=7").await;
    assert_eq!(list["todos"], json!([]));
    assert_pagination(&list, 3, 7, 0, 0);
}

#[tokio::test]
async fn exactly_per_page_then_one_more() {
    let app = TestApp::spawn().await;
    let user = app.user();
    app.create_todos(&user, "t", 5).await;
    let list = app.list(&user, "?per_page=5").await;
    assert_eq!(titles(&list), ["t 4", "t 3", "t 2", "t 1", "t 0"]);
    assert_pagination(&list, 1, 5, 5, 1);
    let list = app.list(&user, "?per_page=5&page=2").await;
    assert_eq!(list["todos"], json!([]));
    assert_pagination(&list, 2, 5, 5, 1);

    app.create_todos(&user, "u", 1).await;
    let list = app.list(&user, "?per_page=5").await;
    assert_pagination(&list, 1, 5, 6, 2);
    assert_eq!(titles(&list)[0], "u 0", "newest first");
    let list = app.list(&user, "?per_page=5&page=2").await;
    assert_eq!(titles(&list), ["t 0"], "the oldest alone on the last page");
    assert_pagination(&list, 2, 5, 6, 2);
}

#[tokio::test]
async fn a_last_partial_page_and_pages_past_the_end() {
    let app = TestApp::spawn().await;
    let user = app.user();
    app.create_todos(&user, "t", 12).await;
    let list = app.list(&user, "?per_page=5&page=3").await;
    assert_eq!(titles(&list), ["t 1", "t 0"]);
    assert_pagination(&list, 3, 5, 12, 3);
    for page in [4, 5, 1_000, 1_000_000_000] {
        let list = app.list(&user, &format!("?per_page=5&page={page}")).await;
        assert_eq!(list["todos"], json!([]));
        assert_pagination(&list, page, 5, 12, 3);
    }
}

#[tokio::test]
async fn per_page_1_walks_every_todo_once() {
    let app = TestApp::spawn().await;
    let user = app.user();
    app.create_todos(&user, "t", 3).await;
    let mut seen = Vec::new();
    for page in 1..=3 {
        let list = app.list(&user, &format!("?per_page=1&page={page}")).await;
        assert_pagination(&list, page, 1, 3, 3);
        seen.extend(titles(&list));
    }
    assert_eq!(seen, ["t 2", "t 1", "t 0"]);
}

#[tokio::test]
async fn per_page_100_and_the_default_of_20() {
    let app = TestApp::spawn().await;
    let user = app.user();
    let mut seeded = app
        .seed(&user.id, 101, Timestamp::now().micros(), false)
        .await;
    seeded.sort();
    seeded.reverse();

    let first = app.list(&user, "?per_page=100").await;
    assert_pagination(&first, 1, 100, 101, 2);
    assert_eq!(ids(&first).len(), 100);
    let second = app.list(&user, "?per_page=100&page=2").await;
    assert_pagination(&second, 2, 100, 101, 2);
    let all: Vec<String> = ids(&first).into_iter().chain(ids(&second)).collect();
    assert_eq!(all, seeded, "every todo once, ties by id descending");

    let default = app.list(&user, "").await;
    assert_pagination(&default, 1, 20, 101, 6);
    assert_eq!(ids(&default), seeded[..20]);
    let last = app.list(&user, "?page=6").await;
    assert_eq!(ids(&last), seeded[100..]);
}

#[tokio::test]
async fn newest_first_with_ties_in_the_same_instant_broken_by_id_descending() {
    let app = TestApp::spawn().await;
    let user = app.user();
    let base = Timestamp::now().micros();
    // Three created in one instant, two a millisecond later, one a millisecond earlier.
    let mut same = app.seed(&user.id, 3, base, false).await;
    let mut later = app.seed(&user.id, 2, base + 1_000, true).await;
    let earlier = app.seed(&user.id, 1, base - 1_000, false).await;
    same.sort_by(|a, b| b.cmp(a));
    later.sort_by(|a, b| b.cmp(a));
    let expected: Vec<String> = later.iter().chain(&same).chain(&earlier).cloned().collect();

    let list = app.list(&user, "").await;
    assert_eq!(ids(&list), expected);
    // Pages cut the same order.
    let mut paged = Vec::new();
    for page in 1..=3 {
        paged.extend(ids(&app
            .list(&user, &format!("?per_page=2&page={page}"))
            .await));
    }
    assert_eq!(paged, expected);
    // Times are shown as RFC 3339 UTC.
    let first = &list["todos"][0];
    assert_eq!(
        instant(&first["created_at"]).unix_timestamp_nanos(),
        i128::from(base + 1_000) * 1_000
    );
}

#[tokio::test]
async fn the_completed_filter_counts_and_pages_the_filtered_list() {
    let app = TestApp::spawn().await;
    let user = app.user();
    let todos = app.create_todos(&user, "t", 5).await;
    for todo in &todos[..3] {
        app.patch(
            &format!("/api/todos/{}", todo["id"].as_str().unwrap()),
            Some(&user.token),
            json!({"completed": true}),
        )
        .await;
    }
    let done = app.list(&user, "?completed=true&per_page=2").await;
    assert_eq!(titles(&done), ["t 2", "t 1"]);
    assert_pagination(&done, 1, 2, 3, 2);
    assert!(
        done["todos"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["completed"] == true)
    );
    let open = app.list(&user, "?completed=false").await;
    assert_eq!(titles(&open), ["t 4", "t 3"]);
    assert_pagination(&open, 1, 20, 2, 1);
    assert_eq!(app.list(&user, "").await["pagination"]["total"], 5);
}

#[tokio::test]
async fn invalid_parameters_are_422_naming_each() {
    let app = TestApp::spawn().await;
    let user = app.user();
    let admin = app.admin();
    for (query, fields) in [
        ("?page=0", vec!["page"]),
        ("?page=-1", vec!["page"]),
        ("?page=abc", vec!["page"]),
        ("?page=", vec!["page"]),
        ("?page=1.5", vec!["page"]),
        ("?page=1000000001", vec!["page"]),
        ("?page=99999999999999999999999", vec!["page"]),
        ("?per_page=0", vec!["per_page"]),
        ("?per_page=101", vec!["per_page"]),
        ("?per_page=ten", vec!["per_page"]),
        ("?per_page=-5", vec!["per_page"]),
        ("?completed=yes", vec!["completed"]),
        ("?completed=1", vec!["completed"]),
        ("?completed=", vec!["completed"]),
        (
            "?page=0&per_page=0&completed=maybe",
            vec!["page", "per_page", "completed"],
        ),
    ] {
        app.get(&format!("/api/todos{query}"), Some(&user.token))
            .await
            .assert_invalid(&fields);
        app.get(&format!("/api/admin/todos{query}"), Some(&admin.token))
            .await
            .assert_invalid(&fields);
    }
    app.get("/api/admin/todos?user_id=a%00b", Some(&admin.token))
        .await
        .assert_invalid(&["user_id"]);
    // Unknown parameters are ignored.
    app.list(&user, "?sort=title&foo").await;
}
