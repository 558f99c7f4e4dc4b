//! When cross-node events may have been lost — Redis failed over, this node's subscriber
//! reconnected, a node could not publish while the cache was out, or the local event queue
//! overflowed — every live actor here drops its copy of the state; the next message reloads
//! it, checking the database's version. Without this a session ended on another node during a
//! Redis outage would stay valid here until this node's actor next wrote or passivated.

use super::{ActorSystem, ChallengeMsg, LockoutMsg, SessionMsg};

impl ActorSystem {
    /// Drops every live actor's copy of its state (it reloads on next use).
    pub fn resync(&self) {
        let sessions = self.sessions.live_actors();
        let lockouts = self.lockouts.live_actors();
        let challenges = self.challenges.live_actors();
        let dropped = sessions.len() + lockouts.len() + challenges.len();
        for actor in sessions {
            let _ = actor.send_message(SessionMsg::Invalidate(i64::MAX));
        }
        for actor in lockouts {
            let _ = actor.send_message(LockoutMsg::Invalidate(i64::MAX));
        }
        for actor in challenges {
            let _ = actor.send_message(ChallengeMsg::Invalidate(i64::MAX));
        }
        tracing::info!(dropped, "events may have been lost: live actors reload their state from the database");
    }
}
