//! sea-orm entities, one module per table. Hand-written to match `migrations/`.

pub mod zalo_users {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "zalo_users")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub zalo_user_id: String,
        pub followed: bool,
        pub first_seen_at: DateTimeUtc,
        pub last_seen_at: DateTimeUtc,
        pub followed_at: Option<DateTimeUtc>,
        pub unfollowed_at: Option<DateTimeUtc>,
        /// Set while the user has asked not to receive campaigns.
        pub alerts_opted_out_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod inbox_events {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "inbox_events")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        #[sea_orm(unique)]
        pub event_key: String,
        pub event_name: String,
        pub zalo_user_id: Option<String>,
        pub payload: String,
        pub received_at: DateTimeUtc,
        pub attempts: i32,
        pub handled_at: Option<DateTimeUtc>,
        pub outcome: Option<String>,
        /// The user's partition (`domain::Partition`); None for user-less events, closed at insert.
        pub partition: Option<i16>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod zalo_messages {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "zalo_messages")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub zalo_user_id: String,
        pub message_content: String,
        pub is_from_user: bool,
        pub sent_at: DateTimeUtc,
        pub message_type: String,
        pub event_key: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod outbound_messages {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outbound_messages")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub zalo_user_id: String,
        pub text: String,
        pub state: String,
        pub source_event_key: Option<String>,
        pub part_index: i32,
        pub attempts: i32,
        pub zalo_message_id: Option<String>,
        pub error_code: Option<i64>,
        pub error_message: Option<String>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        /// The campaign a part belongs to (None for replies and admin sends).
        pub campaign_id: Option<i64>,
        /// An image sent with the part's text as its caption.
        pub image_url: Option<String>,
        /// The user's partition (`domain::Partition`).
        pub partition: Option<i16>,
        /// The partition's epoch under which the part was claimed for sending.
        pub claim_epoch: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod campaigns {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "campaigns")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub text: String,
        pub image_url: Option<String>,
        pub created_at: DateTimeUtc,
        pub finished_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod campaign_recipients {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "campaign_recipients")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub campaign_id: i64,
        pub zalo_user_id: String,
        /// Chosen when the campaign was created (a later skip keeps it true).
        pub targeted: bool,
        pub state: String,
        pub skip_reason: Option<String>,
        pub outbound_id: Option<i64>,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod zalo_tokens {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "zalo_tokens")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i32,
        pub access_token: String,
        pub refresh_token: Option<String>,
        pub access_expires_at: Option<DateTimeUtc>,
        pub refresh_issued_at: Option<DateTimeUtc>,
        pub version: i64,
        pub source: String,
        pub updated_at: DateTimeUtc,
        pub last_refresh_at: Option<DateTimeUtc>,
        pub last_refresh_result: Option<String>,
        pub last_refresh_error: Option<String>,
        pub last_refresh_success_at: Option<DateTimeUtc>,
        pub reauth_required: bool,
        pub lease_owner: Option<String>,
        pub lease_until: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod scam_reports {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "scam_reports")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub kind: String,
        pub value: String,
        pub bank_bin: Option<String>,
        pub category: String,
        pub report_count: i64,
        pub first_reported_at: DateTimeUtc,
        pub last_reported_at: DateTimeUtc,
        pub source: String,
        pub verified: bool,
        pub status: String,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod scam_user_reports {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "scam_user_reports")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub kind: String,
        pub value: String,
        pub bank_bin: Option<String>,
        pub category: String,
        pub note: String,
        pub reporter_hash: String,
        pub status: String,
        pub created_at: DateTimeUtc,
        pub reviewed_at: Option<DateTimeUtc>,
        pub reporter_id: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod backup_runs {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "backup_runs")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub finished_at: DateTimeUtc,
        pub file: String,
        pub bytes: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod oauth_states {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "oauth_states")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub state: String,
        pub code_verifier: String,
        pub created_at: DateTimeUtc,
        pub expires_at: DateTimeUtc,
        pub used_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod llm_usage {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "llm_usage")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub day: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub zalo_user_id: String,
        pub requests: i64,
        pub prompt_tokens: i64,
        pub completion_tokens: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod image_reads {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "image_reads")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub day: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub zalo_user_id: String,
        pub images: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod scam_feeds {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "scam_feeds")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub name: String,
        pub title: String,
        pub etag: Option<String>,
        pub last_modified: Option<String>,
        pub last_attempt_at: Option<DateTimeUtc>,
        pub last_success_at: Option<DateTimeUtc>,
        pub last_result: Option<String>,
        pub entries: i64,
        pub bad_rows: i64,
        pub failures: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod handoff_pauses {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "handoff_pauses")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub zalo_user_id: String,
        pub paused_until: DateTimeUtc,
        pub created_at: DateTimeUtc,
        pub reason: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod report_appeals {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "report_appeals")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub kind: String,
        pub value: String,
        pub appellant_id: String,
        pub note: String,
        pub status: String,
        pub created_at: DateTimeUtc,
        pub decided_at: Option<DateTimeUtc>,
        pub decided_by: Option<String>,
        pub reason: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod moderation_audit {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "moderation_audit")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub at: DateTimeUtc,
        pub moderator: String,
        pub action: String,
        pub subject_id: i64,
        pub kind: String,
        pub value: String,
        pub reason: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod moderation_notices {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "moderation_notices")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub zalo_user_id: String,
        pub kind: String,
        pub subject_id: i64,
        pub text: String,
        pub status: String,
        pub created_at: DateTimeUtc,
        pub expires_at: DateTimeUtc,
        pub sent_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
