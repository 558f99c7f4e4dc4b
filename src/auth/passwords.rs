//! bcrypt, always on its own few threads: logins queue for a slot while the async workers
//! stay free for token checks. Unknown accounts are checked against a dummy hash so that
//! response time does not tell whether an email exists.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock, PoisonError};

use tokio::sync::{oneshot, Semaphore};
use zeroize::Zeroizing;

/// How much lower than the async workers' the bcrypt threads' CPU priority is (a nice value).
/// At +10 the scheduler gives a busy async worker about ten times a bcrypt thread's share, so
/// a storm of logins slows the logins, not the requests of users already signed in; with
/// nothing else to run, bcrypt still has the whole CPU.
const BCRYPT_NICE: i32 = 10;

/// Hashes and verifies passwords off the async runtime.
pub struct PasswordHasher {
    rounds: u32,
    threads: BcryptThreads,
    slots: Arc<Semaphore>,
    /// Logins waiting for a bcrypt slot (exported as a metric).
    queued: AtomicI64,
    dummy_hash: OnceLock<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("bcrypt failed")]
    Bcrypt(#[from] bcrypt::BcryptError),
    #[error("the hashing pool is closed")]
    PoolClosed(#[from] tokio::sync::AcquireError),
    #[error("a hashing thread stopped before answering")]
    Lost,
}

impl PasswordHasher {
    pub fn new(rounds: u32, workers: usize) -> Self {
        Self {
            rounds,
            threads: BcryptThreads::start(workers.max(1)),
            slots: Arc::new(Semaphore::new(workers.max(1))),
            queued: AtomicI64::new(0),
            dummy_hash: OnceLock::new(),
        }
    }

    pub fn queue_depth(&self) -> i64 {
        self.queued.load(Ordering::Relaxed)
    }

    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        let password = Zeroizing::new(password.to_owned());
        let rounds = self.rounds;
        Ok(self.run(move || bcrypt::hash(password.as_bytes(), rounds)).await??)
    }

    /// Checks `password` against `hash`, or against a dummy hash of the same cost when there
    /// is no account, so both cases take the same time. Returns true only for a real match.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool, HashError> {
        let has_account = hash.is_some();
        let hash = match hash {
            Some(hash) => hash.to_owned(),
            None => self.dummy_hash().await?,
        };
        let password = Zeroizing::new(password.to_owned());
        let matched = self.run(move || bcrypt::verify(password.as_bytes(), &hash).unwrap_or(false)).await?;
        Ok(matched && has_account)
    }

    async fn dummy_hash(&self) -> Result<String, HashError> {
        if let Some(hash) = self.dummy_hash.get() {
            return Ok(hash.clone());
        }
        let hash = self.hash("tradesage-dummy-password-for-timing").await?;
        Ok(self.dummy_hash.get_or_init(|| hash).clone())
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, HashError> {
        self.queued.fetch_add(1, Ordering::Relaxed);
        let permit = self.slots.clone().acquire_owned().await;
        self.queued.fetch_sub(1, Ordering::Relaxed);
        let permit = permit?;
        let (reply, answer) = oneshot::channel();
        self.threads.run(Box::new(move || {
            let _ = reply.send(work());
            drop(permit);
        }));
        answer.await.map_err(|_| HashError::Lost)
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// The threads bcrypt runs on, at [`BCRYPT_NICE`]. They end when the hasher is dropped.
struct BcryptThreads {
    jobs: mpsc::Sender<Job>,
}

impl BcryptThreads {
    fn start(count: usize) -> Self {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..count {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new().name(format!("bcrypt-{index}")).spawn(move || {
                lower_priority();
                loop {
                    let job = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
                    let Ok(job) = job else { return };
                    // A panic loses its one answer (the caller sees `Lost`), not the thread.
                    let _ = catch_unwind(AssertUnwindSafe(job));
                }
            });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a bcrypt thread");
            }
        }
        Self { jobs }
    }

    fn run(&self, job: Job) {
        // Fails only when no thread could be started; the caller then sees `Lost`.
        let _ = self.jobs.send(job);
    }
}

/// Lowers the calling thread's CPU priority (on Linux a nice value is per thread).
#[cfg(target_os = "linux")]
fn lower_priority() {
    // SAFETY: gettid has no preconditions; setpriority with PRIO_PROCESS and a thread id
    // changes that thread's nice value only, and raising it needs no privilege.
    let changed = unsafe { libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, BCRYPT_NICE) };
    if changed != 0 {
        tracing::warn!("could not lower a bcrypt thread's CPU priority");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hasher = PasswordHasher::new(4, 2);
        let hash = hasher.hash("correct horse").await.unwrap();
        assert!(hasher.verify("correct horse", Some(&hash)).await.unwrap());
        assert!(!hasher.verify("wrong horse", Some(&hash)).await.unwrap());
    }

    /// Token checks on the async workers must win the CPU from a login storm's bcrypt.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn bcrypt_runs_at_a_lower_cpu_priority_than_the_caller() {
        // SAFETY: gettid has no preconditions; getpriority only reads this thread's nice value.
        let nice_of_this_thread = || unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) };
        let hasher = PasswordHasher::new(4, 1);
        let caller = nice_of_this_thread();
        let bcrypt_thread = hasher.run(nice_of_this_thread).await.unwrap();
        assert_eq!(bcrypt_thread, (caller + BCRYPT_NICE).min(19));
    }

    #[tokio::test]
    async fn an_unknown_account_never_verifies() {
        let hasher = PasswordHasher::new(4, 1);
        assert!(!hasher.verify("tradesage-dummy-password-for-timing", None).await.unwrap());
    }
}
