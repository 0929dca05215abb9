//! Images read per user and day: the per-user daily image budget.

use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{EntityTrait, Set};

use super::entities::image_reads;
use super::{Store, StoreResult};
use crate::domain::UserId;

impl Store {
    /// Takes one image from `user`'s budget for `day`: true when it was within `budget`. A refused image
    /// is not counted, so the count is what was read.
    pub async fn take_image_read(
        &self,
        user: &UserId,
        day: NaiveDate,
        budget: u32,
    ) -> StoreResult<bool> {
        let txn = self.begin_write().await?;
        let key = (day.to_string(), user.as_str().to_string());
        let read = image_reads::Entity::find_by_id(key.clone())
            .one(&txn)
            .await?
            .map_or(0, |row| row.images);
        if read >= i64::from(budget) {
            txn.rollback().await?;
            return Ok(false);
        }
        image_reads::Entity::insert(image_reads::ActiveModel {
            day: Set(key.0),
            zalo_user_id: Set(key.1),
            images: Set(1),
        })
        .on_conflict(
            OnConflict::columns([image_reads::Column::Day, image_reads::Column::ZaloUserId])
                .value(
                    image_reads::Column::Images,
                    Expr::col((image_reads::Entity, image_reads::Column::Images)).add(1),
                )
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
        txn.commit().await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::group_commit::inbox::tests::stores;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_budget_admits_that_many_images_a_day_per_user() {
        let dir = tempfile::tempdir().unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let ana = UserId::parse("1001").unwrap();
        let ben = UserId::parse("1002").unwrap();
        for store in stores(&dir).await {
            for _ in 0..3 {
                assert!(store.take_image_read(&ana, day, 3).await.unwrap());
            }
            assert!(!store.take_image_read(&ana, day, 3).await.unwrap());
            assert!(!store.take_image_read(&ana, day, 3).await.unwrap());
            // Another user, and the next day, have their own budget.
            assert!(store.take_image_read(&ben, day, 3).await.unwrap());
            let next = day.succ_opt().unwrap();
            assert!(store.take_image_read(&ana, next, 3).await.unwrap());
            // A budget of zero reads nothing.
            assert!(!store.take_image_read(&ben, day, 0).await.unwrap());
        }
    }
}
