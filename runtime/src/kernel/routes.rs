//! Which local process carries the traffic for each connected node: one runtime's
//! distribution routes.
//!
//! The distribution layer (`beamlet::otp::dist`) runs one process per connection.
//! When a connection is up it sets the route of the peer's `(name, creation)` to that
//! process; when the connection ends it clears it. A delivery to a pid of another
//! node looks its node up here (see [`super::remote`]).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::pid::Pid;

/// The connection process of one connected node incarnation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Route {
    creation: u32,
    connection: Pid,
}

/// One runtime's routes, by node name. Reads (every remote delivery) share the lock;
/// writes happen when a connection comes up or goes down.
#[derive(Debug, Default)]
pub(crate) struct Routes {
    by_node: RwLock<HashMap<Arc<str>, Route>>,
}

impl Routes {
    /// Routes `(node, creation)` through `connection`, replacing an older route.
    pub(crate) fn set(&self, node: &str, creation: u32, connection: Pid) {
        let mut routes = self.by_node.write().unwrap_or_else(|e| e.into_inner());
        routes.insert(
            node.into(),
            Route {
                creation,
                connection,
            },
        );
    }

    /// Removes the route of `node` if `connection` still carries it; says whether it did.
    pub(crate) fn clear(&self, node: &str, connection: Pid) -> bool {
        let mut routes = self.by_node.write().unwrap_or_else(|e| e.into_inner());
        match routes.get(node) {
            Some(r) if r.connection == connection => routes.remove(node).is_some(),
            _ => false,
        }
    }

    /// The connection of `node`'s incarnation `creation`, if it is connected.
    pub(crate) fn connection(&self, node: &str, creation: u32) -> Option<Pid> {
        let routes = self.by_node.read().unwrap_or_else(|e| e.into_inner());
        routes
            .get(node)
            .filter(|r| r.creation == creation)
            .map(|r| r.connection)
    }

    /// The connection of `node`, whatever its incarnation.
    pub(crate) fn connection_of_node(&self, node: &str) -> Option<Pid> {
        let routes = self.by_node.read().unwrap_or_else(|e| e.into_inner());
        routes.get(node).map(|r| r.connection)
    }

    /// The connected nodes' names.
    pub(crate) fn nodes(&self) -> Vec<Arc<str>> {
        let routes = self.by_node.read().unwrap_or_else(|e| e.into_inner());
        routes.keys().cloned().collect()
    }
}
