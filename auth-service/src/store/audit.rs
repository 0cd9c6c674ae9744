//! The audit log.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

use super::entities::audit_event::{self, Entity as AuditEvents, Model};

pub async fn insert(db: &impl ConnectionTrait, row: Model) -> Result<(), DbErr> {
    AuditEvents::insert(audit_event::ActiveModel::from(row))
        .exec(db)
        .await
        .map(|_| ())
}

fn filtered(user_id: Option<&str>) -> Select<AuditEvents> {
    let query = AuditEvents::find();
    match user_id {
        Some(id) => query.filter(audit_event::Column::UserId.eq(id)),
        None => query,
    }
}

/// One page, newest first, and the total.
pub async fn page(
    db: &impl ConnectionTrait,
    user_id: Option<&str>,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Model>, u64), DbErr> {
    let total = filtered(user_id).count(db).await?;
    let rows = filtered(user_id)
        .order_by_desc(audit_event::Column::At)
        .order_by_desc(audit_event::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    Ok((rows, total))
}
