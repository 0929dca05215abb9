//! SQLite WAL checkpoints off the commit path.
//!
//! By default SQLite checkpoints inside the commit that takes the WAL past 1,000 frames: that commit, and
//! every write queued behind the one writer connection, waits while the checkpoint copies pages into the
//! database file and syncs it. At a few thousand webhook events a second that is dozens of checkpoints a
//! second on the write path (taking them off it raised the receipts intake by 25-30 %). So the writer
//! connection never checkpoints (`wal_autocheckpoint = 0`) and this task does, every [`INTERVAL`]:
//! 1. on a connection of its own, `PASSIVE` checkpoints copy what is committed, beside the writes (a passive
//!    checkpoint takes no lock a writer needs). A pass only covers the WAL as it was when the pass began, so
//!    passes repeat while each finds many frames committed during the one before;
//! 2. one more `PASSIVE` checkpoint on the writer connection copies the short tail between two writes, the
//!    only moment no frame can be added. That one syncs the database file, so it holds up the writes for a
//!    few milliseconds per round instead of once per 1,000 frames.
//!
//! A fully copied WAL is what lets the next write transaction start the WAL file over from its beginning, so
//! it stays small instead of growing for as long as writes keep coming (`journal_size_limit` then trims the
//! file). Readers holding an old snapshot can delay that by one round, never lose it.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

/// How often the WAL is copied into the database file. Writes that arrive within one interval are copied
/// together: a page rewritten by many commits (an index's last leaf) is copied once. Measured against 100 and
/// 500 ms: 100 ms copies hot pages too often, 500 ms lets rounds grow into 40-60 ms stalls.
const INTERVAL: Duration = Duration::from_millis(250);

/// What one `PRAGMA wal_checkpoint` reported, in frames (pages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Checkpoint {
    /// Frames in the WAL.
    log: i64,
    /// Of those, copied into the database file.
    copied: i64,
}

impl Checkpoint {
    /// Everything copied: the next write may start the WAL over.
    fn complete(self) -> bool {
        self.copied >= self.log
    }
}

/// A `PASSIVE` checkpoint on `conn`: copies what it can without waiting for any lock.
async fn checkpoint(conn: &DatabaseConnection) -> Result<Checkpoint, DbErr> {
    let row = conn
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA wal_checkpoint(PASSIVE)",
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("wal_checkpoint returned no row".into()))?;
    Ok(Checkpoint {
        log: row.try_get_by_index(1)?,
        copied: row.try_get_by_index(2)?,
    })
}

/// Runs until `side` is closed. `writer` is the store's one writer connection.
pub(super) async fn run(side: DatabaseConnection, writer: DatabaseConnection) {
    let mut failing = false;
    let mut frames_after_last_round = None;
    loop {
        tokio::time::sleep(INTERVAL).await;
        if is_closed(&side) {
            return;
        }
        match round(&side, &writer, &mut frames_after_last_round).await {
            Ok(()) => failing = false,
            // A closed pool ends the task; anything else is retried next round and logged once.
            Err(_) if is_closed(&side) || is_closed(&writer) => return,
            Err(err) if !failing => {
                failing = true;
                tracing::warn!(error = %err, "SQLite WAL checkpoint failed; retrying");
            }
            Err(_) => {}
        }
    }
}

/// Side passes copy the frames committed during the previous one until those are at most this many (or
/// [`MAX_SIDE_PASSES`] ran): the tail left to the writer connection, which holds up every write while it
/// copies, is then a few milliseconds' worth.
const SMALL_TAIL_FRAMES: i64 = 128;
const MAX_SIDE_PASSES: usize = 4;

/// One round: side passes beside the writes, then the tail between two writes. `frames_after_last` is the
/// WAL's length when the previous round ended: still that length, nothing was written since (an idle
/// service's rounds stop there, without taking the writer connection).
async fn round(
    side: &DatabaseConnection,
    writer: &DatabaseConnection,
    frames_after_last: &mut Option<i64>,
) -> Result<(), DbErr> {
    let started = std::time::Instant::now();
    let mut copied = checkpoint(side).await?;
    if copied.log == 0 || Some(copied.log) == *frames_after_last {
        return Ok(());
    }
    let mut passes = 1;
    while passes < MAX_SIDE_PASSES {
        let next = checkpoint(side).await?;
        passes += 1;
        let added = next.log - copied.log;
        copied = next;
        if added <= SMALL_TAIL_FRAMES {
            break;
        }
    }
    let side_done = started.elapsed();
    // A pass only covers the WAL as it was when the pass began. On the writer connection no frame can be
    // added meanwhile, so after this pass the WAL is fully copied and the next write starts it over.
    let tail = checkpoint(writer).await?;
    *frames_after_last = Some(tail.log);
    tracing::debug!(
        passes,
        side_ms = side_done.as_secs_f64() * 1e3,
        tail_frames = tail.log - copied.log,
        tail_ms = (started.elapsed() - side_done).as_secs_f64() * 1e3,
        complete = tail.complete(),
        "WAL checkpointed"
    );
    Ok(())
}

fn is_closed(conn: &DatabaseConnection) -> bool {
    conn.get_sqlite_connection_pool().is_closed()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::store::Store;
    use crate::store::group_commit::inbox::tests::{event, insert_all, stores};

    /// About 8 MB of webhook events (2,000 of 4 KB), in concurrent inserts as the webhook makes them.
    async fn burst(store: &Store, tag: &str) {
        let padded = |i| {
            let mut event = event(&format!("{tag}-{i}"));
            event.payload = format!(r#"{{"pad":"{}"}}"#, "x".repeat(4096));
            event
        };
        for inserted in insert_all(store, 2000, padded).await {
            inserted.unwrap();
        }
    }

    fn size(path: &Path) -> u64 {
        std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
    }

    /// Waits (polling, at most 30 s) until the database file holds `bytes`: the WAL was copied into it.
    async fn wait_for_database_file(path: &Path, bytes: u64) {
        for _ in 0..300 {
            if size(path) >= bytes {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "the WAL was not copied: database file {} bytes, WAL {} bytes",
            size(path),
            size(&path.with_extension("db-wal"))
        );
    }

    /// The WAL header's first salt: SQLite draws a new one each time the WAL starts over.
    fn wal_salt(wal: &Path) -> Option<[u8; 4]> {
        use std::io::Read;
        // The header only: the file is megabytes of frames.
        let mut header = [0u8; 20];
        std::fs::File::open(wal)
            .ok()?
            .read_exact(&mut header)
            .ok()?;
        header[16..].try_into().ok()
    }

    /// Writes one small event at a time (polling, at most 30 s) until one of them starts the WAL over.
    async fn wait_for_wal_restart(store: &Store, wal: &Path) {
        let before = wal_salt(wal);
        for tick in 0..300 {
            store
                .insert_inbox(event(&format!("tick-{tick}")))
                .await
                .unwrap();
            if wal_salt(wal) != before {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the WAL never started over: {} bytes", size(wal));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_wal_is_copied_beside_the_writes_and_starts_over() {
        let dir = tempfile::tempdir().unwrap();
        let store = stores(&dir).await.into_iter().next().unwrap();
        assert!(store.is_sqlite());
        let database = dir.path().join("inbox.db");
        let wal = dir.path().join("inbox.db-wal");

        // The writer never checkpoints, so only the checkpointer can move the rows into the database file.
        burst(&store, "first").await;
        wait_for_database_file(&database, 8_000_000).await;
        let wal_after_first = size(&wal);
        assert!(wal_after_first > 0);

        // Fully copied, the WAL starts over at the next write (a new salt in its header). Waiting for that,
        // not for a time, keeps the test independent of when a round lands on a loaded machine: a second
        // burst that began before the round's last pass appended to the WAL and flaked it (6.3 then 9.5 MB).
        wait_for_wal_restart(&store, &wal).await;
        // A second burst of the same size then reuses the file instead of adding to it, as it would if it
        // kept growing. One burst writes about 10 MB of frames, two about 19.5 MB; the first burst's file may
        // be smaller (a round that landed mid-burst started it over), so the bound is in bursts, not in it.
        burst(&store, "second").await;
        wait_for_database_file(&database, 16_000_000).await;
        let wal_after_second = size(&wal);
        assert!(
            wal_after_second < 14_000_000,
            "the WAL kept growing: {wal_after_first} then {wal_after_second} bytes"
        );
        store.close().await;
    }
}
