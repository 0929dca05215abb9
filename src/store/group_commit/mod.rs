//! Group commit: callers queue their writes on a channel, and a task writes whatever is queued, up to a
//! batch's worth, together, answering each caller only after the commit. A commit (the write lock and a WAL
//! write on SQLite, a WAL flush on PostgreSQL) costs far more than a row, so under load many writes share one.
//! There is no linger: a lone write is written at once, and under load the next batch grows by itself while
//! the previous one commits. A full queue makes callers wait (back pressure) instead of growing memory.
//!
//! Two writers plug into this core through [`BatchWrite`]:
//! - [`inbox`]: the webhook's inserts, one statement per batch;
//! - [`pipeline`]: the conversation pipeline's writes (completions, attempts, send claims and results), with
//!   their statements in `ops` and the completion in `completion`.
//!
//! A panic while writing fails that batch, never the task (an open transaction rolls back on drop).

mod completion;
mod fence;
pub(super) mod inbox;
mod ops;
pub(super) mod pipeline;

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use sea_orm::{
    DatabaseConnection, DatabaseTransaction, DbErr, TransactionOptions, TransactionTrait,
};
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::{StoreError, StoreResult};

/// How a batch that failed as a whole answers its callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OnFailure {
    /// Every write of the batch fails with the batch's error.
    FailAll,
    /// Each write is retried on its own, with its own outcome, so one bad write fails only its own caller.
    /// A batch of one is written alone from the start.
    OneByOne,
}

/// A kind of write that [`GroupCommit`] batches.
pub(super) trait BatchWrite: Send + Sync + 'static {
    type Request: Clone + Send + 'static;
    type Answer: Send + 'static;
    /// Names the writer in errors and logs ("inbox writer stopped").
    const NAME: &'static str;
    /// Writes per batch at most.
    const MAX_BATCH: usize;
    /// Requests waiting for a batch at most.
    const QUEUE_CAPACITY: usize;
    /// The histogram of batch sizes.
    const BATCH_SIZE_METRIC: &'static str;
    const ON_FAILURE: OnFailure;
    /// Whether each batch is written on a task of its own, the loop taking the next request meanwhile, rather
    /// than on the loop's task. The pipeline's writer does: written inline on SQLite, its batches took about a
    /// fifth more CPU per answered message under a closed-loop flood.
    const OWN_TASK_PER_BATCH: bool;

    /// Batches written at once.
    fn parallel(&self) -> usize;

    /// Writes `batch` together: one answer per request, in order, once committed.
    fn write_together(
        &self,
        batch: Vec<Self::Request>,
    ) -> impl Future<Output = StoreResult<Vec<Self::Answer>>> + Send;

    /// Writes one request on its own ([`OnFailure::OneByOne`]).
    fn write_alone(
        &self,
        request: Self::Request,
    ) -> impl Future<Output = StoreResult<Self::Answer>> + Send {
        async move {
            let mut answers = self.write_together(vec![request]).await?;
            Ok(answers.pop().expect("one answer per request"))
        }
    }
}

type Queued<W> = (
    <W as BatchWrite>::Request,
    oneshot::Sender<StoreResult<<W as BatchWrite>::Answer>>,
);

/// The sending side of a writer task; cheap to clone. The task stops when the last clone is dropped.
pub(super) struct GroupCommit<W: BatchWrite> {
    tx: mpsc::Sender<Queued<W>>,
}

impl<W: BatchWrite> Clone for GroupCommit<W> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
        }
    }
}

impl<W: BatchWrite> std::fmt::Debug for GroupCommit<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit")
            .field("writer", &W::NAME)
            .finish()
    }
}

impl<W: BatchWrite> GroupCommit<W> {
    /// Starts the writer task on the current tokio runtime.
    pub(super) fn spawn(writer: W) -> Self {
        let (tx, rx) = mpsc::channel(W::QUEUE_CAPACITY);
        tokio::spawn(run(rx, writer));
        Self { tx }
    }

    /// Queues one write and waits for its commit. A writer that is gone is an error, never a hang.
    pub(super) async fn write(&self, request: W::Request) -> StoreResult<W::Answer> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((request, reply))
            .await
            .map_err(|_| stopped::<W>())?;
        answer.await.unwrap_or_else(|_| Err(stopped::<W>()))
    }

    /// Queues one write without waiting for its commit (waiting only for room in the queue). It commits with
    /// or before every write queued after it; should it fail, the writer logs it.
    pub(super) async fn queue(&self, request: W::Request) -> StoreResult<()> {
        let (reply, _) = oneshot::channel();
        self.tx
            .send((request, reply))
            .await
            .map_err(|_| stopped::<W>())
    }
}

fn stopped<W: BatchWrite>() -> StoreError {
    DbErr::Custom(format!("{} writer stopped", W::NAME)).into()
}

/// Waits for one request, drains what else is queued, writes that batch; again until every sender is gone.
/// One batch at a time is written on this task; several at once each on a task of its own, up to
/// [`BatchWrite::parallel`].
async fn run<W: BatchWrite>(mut rx: mpsc::Receiver<Queued<W>>, writer: W) {
    let parallel = writer.parallel();
    if parallel <= 1 && !W::OWN_TASK_PER_BATCH {
        while let Some(first) = rx.recv().await {
            let batch = take_batch(first, &mut rx, W::MAX_BATCH);
            write_batch(&writer, batch).await;
        }
        return;
    }
    let writer = Arc::new(writer);
    let slots = Arc::new(Semaphore::new(parallel));
    while let Some(first) = rx.recv().await {
        // Taken before draining: while every slot is busy, the next batch grows.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return; // never closed
        };
        let batch = take_batch(first, &mut rx, W::MAX_BATCH);
        let writer = writer.clone();
        tokio::spawn(async move {
            write_batch(&*writer, batch).await;
            drop(slot);
        });
    }
}

/// `first` and whatever else is queued on `rx` already, up to `max`: one group-commit batch. No linger: under
/// load the queue fills while the previous batch commits.
fn take_batch<T>(first: T, rx: &mut mpsc::Receiver<T>, max: usize) -> Vec<T> {
    let mut batch = Vec::with_capacity(max.min(rx.len() + 1));
    batch.push(first);
    while batch.len() < max {
        match rx.try_recv() {
            Ok(request) => batch.push(request),
            Err(_) => break,
        }
    }
    batch
}

/// Writes one batch and answers every request in it.
async fn write_batch<W: BatchWrite>(writer: &W, batch: Vec<Queued<W>>) {
    metrics::histogram!(W::BATCH_SIZE_METRIC).record(batch.len() as f64);
    let (mut requests, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
    let one_by_one = W::ON_FAILURE == OnFailure::OneByOne;
    if !one_by_one || requests.len() > 1 {
        // Kept only for a retry one by one.
        let retry = one_by_one.then(|| requests.clone());
        let together = AssertUnwindSafe(writer.write_together(requests))
            .catch_unwind()
            .await
            .unwrap_or_else(|_| Err(DbErr::Custom(format!("{} batch panicked", W::NAME)).into()));
        match (together, retry) {
            (Ok(answers), _) => {
                for (reply, answer) in replies.into_iter().zip(answers) {
                    // A caller that gave up no longer listens; its write is committed all the same.
                    let _ = reply.send(Ok(answer));
                }
                return;
            }
            (Err(err), None) => {
                // DbErr is not Clone: every caller gets the message.
                let message = format!(
                    "{} batch of {} not written: {}",
                    W::NAME,
                    replies.len(),
                    err.0
                );
                for reply in replies {
                    let _ = reply.send(Err(DbErr::Custom(message.clone()).into()));
                }
                return;
            }
            (Err(_), Some(retry)) => requests = retry,
        }
    }
    // Alone, or the batch failed: each write on its own, with its own outcome.
    for (request, reply) in requests.into_iter().zip(replies) {
        let alone = AssertUnwindSafe(writer.write_alone(request))
            .catch_unwind()
            .await
            .unwrap_or_else(|_| Err(DbErr::Custom(format!("{} write panicked", W::NAME)).into()));
        if let Err(Err(err)) = reply.send(alone) {
            // Nobody waits for this one (`GroupCommit::queue`): the log is all that hears of it.
            tracing::warn!(error = %err, "a queued {} write failed", W::NAME);
        }
    }
}

/// [`Store::begin_write`] on a bare connection.
pub(in crate::store) async fn begin_write_on(
    db: &DatabaseConnection,
    sqlite: bool,
) -> Result<DatabaseTransaction, DbErr> {
    let options = TransactionOptions {
        sqlite_transaction_mode: sqlite.then_some(sea_orm::SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    db.begin_with_options(options).await
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use super::*;

    /// A request that fails wherever it is written.
    const BAD: i32 = -1;
    /// A request that panics wherever it is written.
    const PANIC: i32 = -2;

    /// What a writer wrote: how ("together" or "alone") and which requests.
    type Log = Vec<(&'static str, Vec<i32>)>;

    /// Answers each request with itself, and logs what it wrote: `together` batches and `alone` writes.
    #[derive(Default)]
    struct Echo<const ONE_BY_ONE: bool> {
        log: Arc<Mutex<Log>>,
        parallel: usize,
        /// Every batch waits here before it is written, counted in `arrived`.
        barrier: Option<Arc<tokio::sync::Barrier>>,
        arrived: Arc<std::sync::atomic::AtomicUsize>,
    }

    impl<const ONE_BY_ONE: bool> Echo<ONE_BY_ONE> {
        fn written(&self, how: &'static str, requests: &[i32]) -> StoreResult<()> {
            self.log.lock().unwrap().push((how, requests.to_vec()));
            if requests.contains(&PANIC) {
                panic!("test: a panicking write");
            }
            if requests.contains(&BAD) {
                return Err(DbErr::Custom("a bad write".into()).into());
            }
            Ok(())
        }

        fn log(&self) -> Log {
            self.log.lock().unwrap().clone()
        }
    }

    impl<const ONE_BY_ONE: bool> BatchWrite for Echo<ONE_BY_ONE> {
        type Request = i32;
        type Answer = i32;
        const NAME: &'static str = "echo";
        const MAX_BATCH: usize = 4;
        const QUEUE_CAPACITY: usize = 16;
        const BATCH_SIZE_METRIC: &'static str = "test_echo_batch_size";
        const ON_FAILURE: OnFailure = if ONE_BY_ONE {
            OnFailure::OneByOne
        } else {
            OnFailure::FailAll
        };
        const OWN_TASK_PER_BATCH: bool = false;

        fn parallel(&self) -> usize {
            self.parallel.max(1)
        }

        async fn write_together(&self, batch: Vec<i32>) -> StoreResult<Vec<i32>> {
            if let Some(barrier) = &self.barrier {
                self.arrived
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                barrier.wait().await;
            }
            self.written("together", &batch)?;
            Ok(batch)
        }

        async fn write_alone(&self, request: i32) -> StoreResult<i32> {
            self.written("alone", &[request])?;
            Ok(request)
        }
    }

    /// Writes `requests` as one batch through [`write_batch`]; each caller's answer, in order.
    async fn answers<W: BatchWrite>(
        writer: &W,
        requests: Vec<W::Request>,
    ) -> Vec<StoreResult<W::Answer>> {
        let mut receivers = Vec::new();
        let mut batch = Vec::new();
        for request in requests {
            let (reply, answer) = oneshot::channel();
            batch.push((request, reply));
            receivers.push(answer);
        }
        write_batch(writer, batch).await;
        let mut answers = Vec::new();
        for answer in receivers {
            answers.push(answer.await.expect("every request is answered"));
        }
        answers
    }

    fn ok(answers: &[StoreResult<i32>]) -> Vec<Option<i32>> {
        answers.iter().map(|a| a.as_ref().ok().copied()).collect()
    }

    #[tokio::test]
    async fn take_batch_takes_what_is_queued_up_to_the_max() {
        let (tx, mut rx) = mpsc::channel(8);
        for n in 1..=5 {
            tx.send(n).await.unwrap();
        }
        assert_eq!(take_batch(0, &mut rx, 4), [0, 1, 2, 3]);
        assert_eq!(take_batch(9, &mut rx, 4), [9, 4, 5], "no wait for more");
    }

    #[tokio::test]
    async fn a_batch_is_written_together_and_each_request_gets_its_own_answer() {
        let writer = Echo::<true>::default();
        let written = answers(&writer, vec![1, 2, 3]).await;
        assert_eq!(ok(&written), [Some(1), Some(2), Some(3)]);
        assert_eq!(writer.log(), [("together", vec![1, 2, 3])]);
        let writer = Echo::<false>::default();
        assert_eq!(ok(&answers(&writer, vec![7]).await), [Some(7)]);
        assert_eq!(
            writer.log(),
            [("together", vec![7])],
            "alone is a batch of one"
        );
    }

    #[tokio::test]
    async fn one_by_one_a_lone_write_is_written_alone() {
        let writer = Echo::<true>::default();
        assert_eq!(ok(&answers(&writer, vec![7]).await), [Some(7)]);
        assert_eq!(writer.log(), [("alone", vec![7])]);
    }

    #[tokio::test]
    async fn one_by_one_a_failed_batch_is_retried_alone_and_only_the_bad_write_fails() {
        let writer = Echo::<true>::default();
        let answers = answers(&writer, vec![1, BAD, 3]).await;
        assert_eq!(ok(&answers), [Some(1), None, Some(3)]);
        assert!(
            answers[1]
                .as_ref()
                .unwrap_err()
                .to_string()
                .contains("a bad write")
        );
        assert_eq!(
            writer.log(),
            [
                ("together", vec![1, BAD, 3]),
                ("alone", vec![1]),
                ("alone", vec![BAD]),
                ("alone", vec![3]),
            ]
        );
    }

    #[tokio::test]
    async fn one_by_one_a_panicking_write_fails_alone_and_the_rest_are_written() {
        let writer = Echo::<true>::default();
        let answers = answers(&writer, vec![PANIC, 2]).await;
        assert_eq!(ok(&answers), [None, Some(2)]);
        let err = answers[0].as_ref().unwrap_err().to_string();
        assert!(err.contains("echo write panicked"), "{err}");
    }

    #[tokio::test]
    async fn fail_all_a_failed_or_panicking_batch_fails_every_request_with_its_error() {
        let writer = Echo::<false>::default();
        let failed = answers(&writer, vec![1, BAD]).await;
        assert_eq!(ok(&failed), [None, None]);
        for answer in &failed {
            let err = answer.as_ref().unwrap_err().to_string();
            assert!(err.contains("echo batch of 2 not written"), "{err}");
            assert!(err.contains("a bad write"), "{err}");
        }
        let panicked = answers(&writer, vec![PANIC]).await;
        let err = panicked[0].as_ref().unwrap_err().to_string();
        assert!(err.contains("echo batch panicked"), "{err}");
        assert_eq!(
            writer.log(),
            [("together", vec![1, BAD]), ("together", vec![PANIC])],
            "never retried"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn batches_are_written_at_once_up_to_parallel() {
        // Each batch waits for a second one to be in flight: only batches written at once finish. (A lone
        // write of a one-by-one writer skips `write_together`, so this one fails a batch as a whole.)
        let writer = Echo::<false> {
            parallel: 2,
            barrier: Some(Arc::new(tokio::sync::Barrier::new(2))),
            ..Default::default()
        };
        let arrived = writer.arrived.clone();
        let commits = GroupCommit::spawn(writer);
        let first = tokio::spawn({
            let commits = commits.clone();
            async move { commits.write(1).await }
        });
        // The first batch is under way before the second is queued, so they are two batches.
        tokio::time::timeout(Duration::from_secs(10), async {
            while arrived.load(std::sync::atomic::Ordering::SeqCst) == 0 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
        .await
        .expect("the first batch is written");
        let second = tokio::time::timeout(Duration::from_secs(10), commits.write(2))
            .await
            .expect("two batches in flight at once");
        assert_eq!(second.unwrap(), 2);
        assert_eq!(first.await.unwrap().unwrap(), 1);
    }

    #[tokio::test]
    async fn a_stopped_writer_is_an_error_not_a_hang() {
        // No task: the receiver is gone before the send.
        let (tx, rx) = mpsc::channel(1);
        drop(rx);
        let commits = GroupCommit::<Echo<true>> { tx };
        let err = commits.write(1).await.unwrap_err();
        assert!(err.to_string().contains("echo writer stopped"), "{err}");
        assert!(commits.queue(1).await.is_err());

        // A task that drops the request unanswered.
        let (tx, mut rx) = mpsc::channel::<Queued<Echo<true>>>(1);
        tokio::spawn(async move { drop(rx.recv().await) });
        let commits = GroupCommit::<Echo<true>> { tx };
        let err = commits.write(1).await.unwrap_err();
        assert!(err.to_string().contains("echo writer stopped"), "{err}");
    }
}
