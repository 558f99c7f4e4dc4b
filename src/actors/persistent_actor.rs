//! The one ractor actor behind every persistent kind (sessions, lockout counters, pending
//! sign-ins, API keys). It owns a [`Persisted`] state plus whatever the kind keeps in memory
//! only, hands each message to the kind's [`Rules`], drains itself when the rules say nothing is
//! left to guard, flushes memory-only changes when it stops, and times every message.
//!
//! A kind is a [`Persistent`] state, a message enum and a [`Rules`] implementation; its
//! directory is `Directory<PersistentKind<TheRules>>`.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use ractor::{Actor, ActorProcessingErr, ActorRef};

use super::directory::VirtualKind;
use super::persist::{ActorContext, Persisted, Persistent};

/// What a kind of persistent actor does with its messages.
#[async_trait]
pub trait Rules: Send + Sync + 'static {
    /// The stored state one actor owns.
    type State: Persistent;
    type Msg: ractor::Message;
    /// What the actor keeps beside the stored state and writes later, if ever (a last-seen
    /// time, a gauge it holds).
    type Memory: Default + Send + 'static;

    /// Handles one message; answers its caller through the reply port the message carries.
    async fn handle(ctx: &ActorContext, message: Self::Msg, held: &mut Held<Self>);

    /// Whether nothing is left for the actor to guard (ended, expired, unknown): it then
    /// drains and stops.
    fn is_over(_held: &Held<Self>) -> bool {
        false
    }

    /// Passivation or shutdown: writes what only memory holds.
    async fn on_stop(_ctx: &ActorContext, _held: &mut Held<Self>) {}
}

/// One actor's state: the stored part and the memory-only part.
pub struct Held<R: Rules + ?Sized> {
    pub stored: Persisted<R::State>,
    pub memory: R::Memory,
}

/// The ractor actor of a persistent kind.
pub struct PersistentActor<R> {
    ctx: Arc<ActorContext>,
    rules: PhantomData<fn() -> R>,
}

impl<R: Rules> Actor for PersistentActor<R> {
    type Msg = R::Msg;
    type State = Held<R>;
    type Arguments = <R::State as Persistent>::Key;

    async fn pre_start(&self, _myself: ActorRef<R::Msg>, key: Self::Arguments) -> Result<Held<R>, ActorProcessingErr> {
        Ok(Held { stored: Persisted::new(key), memory: R::Memory::default() })
    }

    async fn handle(
        &self,
        myself: ActorRef<R::Msg>,
        message: R::Msg,
        held: &mut Held<R>,
    ) -> Result<(), ActorProcessingErr> {
        // `R::handle` is boxed (async_trait) on purpose: the task of every idle actor would
        // otherwise reserve room for the largest handling future (store and cache round trips)
        // for its whole life.
        let started = Instant::now();
        R::handle(&self.ctx, message, held).await;
        if R::is_over(held) {
            // Drained, not stopped: a stop would drop the messages already queued behind this
            // one (their callers would see "stopped before answering" and, under load, a 503);
            // drained, each is answered from the final state and later senders find a successor.
            let _ = myself.drain();
        }
        let kind = <R::State as Persistent>::KIND;
        self.ctx.metrics.actor_handle.with_label_values(&[kind]).observe(started.elapsed().as_secs_f64());
        Ok(())
    }

    async fn post_stop(&self, _myself: ActorRef<R::Msg>, held: &mut Held<R>) -> Result<(), ActorProcessingErr> {
        R::on_stop(&self.ctx, held).await;
        Ok(())
    }
}

/// The [`VirtualKind`] of a persistent kind: how its directory makes an actor for a key.
pub struct PersistentKind<R> {
    ctx: Arc<ActorContext>,
    rules: PhantomData<fn() -> R>,
}

impl<R> PersistentKind<R> {
    pub fn new(ctx: Arc<ActorContext>) -> Self {
        Self { ctx, rules: PhantomData }
    }
}

impl<R: Rules> VirtualKind for PersistentKind<R> {
    type Key = <R::State as Persistent>::Key;
    type Actor = PersistentActor<R>;
    const KIND: &'static str = <R::State as Persistent>::KIND;

    fn behaviour(&self) -> PersistentActor<R> {
        PersistentActor { ctx: self.ctx.clone(), rules: PhantomData }
    }
}
