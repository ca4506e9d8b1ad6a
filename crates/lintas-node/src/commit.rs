//! Group commit: the changes of many concurrent requests are written in one
//! durable transaction, so one disk flush serves them all.
//!
//! Callers hand their changes to one writer thread and wait. The writer
//! takes everything waiting, runs it in one transaction, commits, and only
//! then answers each caller, so nothing is answered before it is on disk.
//! If a change fails, the transaction is dropped (nothing written) and each
//! change runs again in a transaction of its own, so one bad change fails
//! only its own caller.

use std::sync::Arc;
use std::sync::mpsc;

use lintas_store::{Store, StoreError, Transaction};

use crate::metrics::Metrics;
use tokio::sync::oneshot;

/// Most changes one transaction takes.
const MAX_GROUP: usize = 1024;

/// A change waiting for the writer.
trait Job: Send {
    /// Runs the change in `txn`; false if it failed (its error is kept).
    fn run(&mut self, txn: &Transaction<'_>) -> bool;
    /// Answers the caller once the transaction's fate is known.
    fn finish(self: Box<Self>, committed: Result<(), Arc<StoreError>>);
}

struct Pending<R, F> {
    change: F,
    result: Option<Result<R, StoreError>>,
    answer: oneshot::Sender<Result<R, StoreError>>,
}

impl<R, F> Job for Pending<R, F>
where
    R: Send,
    F: FnMut(&Transaction<'_>) -> Result<R, StoreError> + Send,
{
    fn run(&mut self, txn: &Transaction<'_>) -> bool {
        let result = (self.change)(txn);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn finish(self: Box<Self>, committed: Result<(), Arc<StoreError>>) {
        let answer = match (self.result, committed) {
            (Some(Err(own)), _) => Err(own),
            (Some(Ok(value)), Ok(())) => Ok(value),
            (_, Err(shared)) => Err(StoreError::Shared(shared)),
            (None, Ok(())) => Err(StoreError::GroupAborted),
        };
        let _ = self.answer.send(answer);
    }
}

/// Handle to the writer thread. The thread stops when told to, or when
/// every handle is gone.
#[derive(Clone)]
pub(crate) struct GroupCommit {
    jobs: mpsc::Sender<Option<Box<dyn Job>>>,
    thread: Arc<std::sync::Mutex<Option<std::thread::JoinHandle<()>>>>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

impl GroupCommit {
    /// Starts the writer thread for `store`.
    pub(crate) fn start(store: Arc<Store>, metrics: Arc<Metrics>) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Option<Box<dyn Job>>>();
        let thread = std::thread::Builder::new()
            .name("lintas-commit".into())
            .spawn(move || writer(&store, metrics, &queue))?;
        Ok(GroupCommit {
            jobs,
            thread: Arc::new(std::sync::Mutex::new(Some(thread))),
        })
    }

    /// Writes what is waiting, stops the writer thread and waits for it.
    /// Later writes answer [`StoreError::Closed`].
    pub(crate) async fn stop(&self) {
        let _ = self.jobs.send(None);
        let thread = self.thread.lock().map(|mut t| t.take()).unwrap_or(None);
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }

    /// Runs `change` in the next group transaction and returns its result
    /// once that transaction is durable. `change` may run twice (the second
    /// time alone) if another change of its group failed, so it must do
    /// nothing outside the transaction.
    pub(crate) async fn write<R, F>(&self, change: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnMut(&Transaction<'_>) -> Result<R, StoreError> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let job = Box::new(Pending {
            change,
            result: None,
            answer,
        });
        self.jobs.send(Some(job)).map_err(|_| StoreError::Closed)?;
        answered.await.map_err(|_| StoreError::Closed)?
    }
}

fn writer(store: &Store, metrics: Arc<Metrics>, queue: &mpsc::Receiver<Option<Box<dyn Job>>>) {
    while let Ok(Some(first)) = queue.recv() {
        let mut group = vec![first];
        let mut stop = false;
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(Some(job)) => group.push(job),
                Ok(None) => {
                    stop = true;
                    break;
                }
                Err(_) => break,
            }
        }
        commit(store, &metrics, group);
        if stop {
            break;
        }
    }
    // Anything sent after the stop is answered `Closed` when the queue,
    // and with it each job's answer channel, is dropped.
}

fn commit(store: &Store, metrics: &Metrics, mut group: Vec<Box<dyn Job>>) {
    let mut change_failed = false;
    let started = std::time::Instant::now();
    let changes = group.len() as u64;
    let was_failing = store.is_failing();
    let outcome = store.write(|txn| {
        for job in group.iter_mut() {
            if !job.run(txn) {
                change_failed = true;
                return Err(StoreError::GroupAborted);
            }
        }
        Ok(())
    });
    metrics.store_commits.inc();
    metrics.store_commit_changes.inc_by(changes);
    metrics
        .store_commit_micros
        .inc_by(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX));
    match outcome {
        Ok(()) => {
            for job in group {
                job.finish(Ok(()));
            }
        }
        Err(_) if change_failed && group.len() > 1 => {
            // Nothing was written; each change alone fails only itself.
            for job in group {
                commit(store, metrics, vec![job]);
            }
        }
        Err(e) => {
            // The first failure is an error for the operator; the writes
            // refused until the store recovers are not (a full disk would
            // otherwise fill the log with one line per refused call).
            if was_failing {
                tracing::debug!(error = %e, changes = group.len(), "store write failed again");
            } else {
                tracing::error!(error = %e, changes = group.len(), "store write failed");
            }
            let e = Arc::new(e);
            for job in group {
                job.finish(Err(Arc::clone(&e)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lintas_core::ids::NoticeId;
    use lintas_store::StoredNotice;

    fn notice(case: &str) -> StoredNotice {
        StoredNotice {
            envelope: vec![1],
            case_id: case.into(),
            recipients: vec!["KHM.X".into()],
            ..Default::default()
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_change_fails_alone_and_the_rest_of_its_group_is_written()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let store = Arc::new(Store::open(&dir.path().join("s.redb"))?);
        let metrics = Arc::new(Metrics::new());
        let commit = GroupCommit::start(Arc::clone(&store), Arc::clone(&metrics))?;
        // Hold the writer so the next three changes wait together.
        let blocker = commit.write(|_| {
            std::thread::sleep(std::time::Duration::from_millis(100));
            Ok(())
        });
        let first =
            commit.write(|t| t.record_sent(&NoticeId::from_bytes([1; 32]), &notice("A"), 3));
        let failing = commit.write(|t| {
            t.record_sent(&NoticeId::from_bytes([2; 32]), &notice("B"), 3)?;
            Err::<Vec<lintas_store::OutboxEntry>, _>(StoreError::Corrupt {
                what: "test".into(),
                detail: "refused on purpose".into(),
            })
        });
        let third =
            commit.write(|t| t.record_sent(&NoticeId::from_bytes([3; 32]), &notice("C"), 3));
        let (b, f, s, t) = tokio::join!(blocker, first, failing, third);
        b?;
        assert_eq!(f?.len(), 1);
        assert!(matches!(s, Err(StoreError::Corrupt { .. })), "{s:?}");
        assert_eq!(t?.len(), 1);
        assert!(store.notice(&NoticeId::from_bytes([1; 32]))?.is_some());
        assert!(
            store.notice(&NoticeId::from_bytes([2; 32]))?.is_none(),
            "nothing of the failed change"
        );
        assert!(store.notice(&NoticeId::from_bytes([3; 32]))?.is_some());
        assert_eq!(store.outbox()?.len(), 2);
        commit.stop().await;
        assert!(matches!(
            commit.write(|t| t.reserve_sequence()).await,
            Err(StoreError::Closed)
        ));
        Ok(())
    }
}
