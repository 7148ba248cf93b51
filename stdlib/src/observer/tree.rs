//! The supervision trees (`GET /api/tree`).
//!
//! 1. One visit of the processes finds the supervisors and dynamic supervisors (by
//!    the behaviour they announced), the application masters and the registered
//!    names.
//! 2. The roots are the supervisors whose parent is not a supervisor. A root whose
//!    parent is an application master is that application's top supervisor: the
//!    master's label is the application's name.
//! 3. Each supervisor is asked for its children (`which_children`, and each
//!    child's restart type with `get_childspec`), every call with a short timeout,
//!    so a busy or stuck supervisor shows as a node without children rather than
//!    holding the page. A child that is a supervisor is walked in turn, down to
//!    [`MAX_DEPTH`]; at most [`MAX_CHILDREN`] children of one supervisor are
//!    listed (`children_omitted` counts the rest), and a pid is walked once.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use beamlet_runtime::Pid;

use super::http::Response;
use super::json::{Array, Object};
use super::table::visit;
use crate::CallError;
use crate::dynamic_supervisor::{self, DynamicSupervisor};
use crate::gen_server::ServerRef;
use crate::supervisor::{self, ChildInfo, ChildKind, Restart, SupRef, Supervisor};

/// The longest one call to a supervisor waits.
const CALL_TIMEOUT: Duration = Duration::from_millis(500);
/// The deepest supervisor walked.
const MAX_DEPTH: usize = 16;
/// The most children of one supervisor listed.
const MAX_CHILDREN: usize = 200;

/// A supervisor found in the visit.
struct Sup {
    dynamic: bool,
    parent: Option<Pid>,
}

/// What the walk knows and has done.
struct Walk {
    sups: HashMap<Pid, Sup>,
    /// Application masters, with their application's name.
    masters: HashMap<Pid, String>,
    names: HashMap<Pid, String>,
    walked: HashSet<Pid>,
}

/// `GET /api/tree`.
pub(super) fn trees() -> Response {
    let mut walk = Walk {
        sups: HashMap::new(),
        masters: HashMap::new(),
        names: HashMap::new(),
        walked: HashSet::new(),
    };
    visit(|row| {
        if let Some(n) = row.name {
            walk.names.insert(row.pid, n);
        }
        match row.behaviour.map(|b| b.0) {
            Some(kind @ ("supervisor" | "dynamic_supervisor")) => {
                let dynamic = kind == "dynamic_supervisor";
                let sup = Sup {
                    dynamic,
                    parent: row.parent,
                };
                walk.sups.insert(row.pid, sup);
            }
            Some("application_master") => {
                let app = row.label.unwrap_or_default();
                walk.masters.insert(row.pid, app);
            }
            _ => {}
        }
    });
    let mut roots: Vec<Pid> = walk
        .sups
        .iter()
        .filter(|(_, s)| !s.parent.is_some_and(|p| walk.sups.contains_key(&p)))
        .map(|(pid, _)| *pid)
        .collect();
    roots.sort();
    let mut out = String::new();
    {
        let mut o = Object::new(&mut out);
        let mut a = o.array("roots");
        for root in roots {
            walk.root(&mut a.object(), root);
        }
    }
    Response::json(200, out)
}

impl Walk {
    /// The kind a supervisor announced: `supervisor` or `dynamic_supervisor`.
    fn behaviour(&self, pid: Pid) -> Option<&'static str> {
        let sup = self.sups.get(&pid)?;
        Some(if sup.dynamic {
            "dynamic_supervisor"
        } else {
            "supervisor"
        })
    }

    /// A root supervisor's node.
    fn root(&mut self, o: &mut Object<'_>, pid: Pid) {
        let parent = self.sups.get(&pid).and_then(|s| s.parent);
        let app = parent.and_then(|p| self.masters.get(&p)).cloned();
        o.pid("pid", pid)
            .opt_str("name", self.names.get(&pid).map(String::as_str));
        o.str("kind", "supervisor");
        o.opt_str("application", app.as_deref());
        o.opt_str("behaviour", self.behaviour(pid));
        self.children(o, pid, 0);
    }

    /// `"children"` of the supervisor `pid` (step 3).
    fn children(&mut self, o: &mut Object<'_>, pid: Pid, depth: usize) {
        let fresh = self.walked.insert(pid);
        let dynamic = self.sups.get(&pid).map(|s| s.dynamic);
        let children = match (fresh && depth < MAX_DEPTH, dynamic) {
            (false, _) => Ok(Vec::new()),
            (true, Some(true)) => dynamic_children(pid),
            (true, Some(false)) => static_children(pid),
            // A supervisor child that did not announce itself: either kind.
            (true, None) => match static_children(pid) {
                Err(CallError::WrongType { .. }) => dynamic_children(pid),
                other => other,
            },
        };
        let children = children.unwrap_or_default();
        let omitted = children.len().saturating_sub(MAX_CHILDREN);
        {
            let mut a: Array<'_> = o.array("children");
            for c in children.iter().take(MAX_CHILDREN) {
                self.child(&mut a.object(), pid, dynamic == Some(true), c, depth);
            }
        }
        if omitted > 0 {
            o.u64("children_omitted", omitted as u64);
        }
    }

    /// One child's node.
    fn child(&mut self, o: &mut Object<'_>, sup: Pid, dynamic: bool, c: &ChildInfo, depth: usize) {
        let pid = c.pid.pid();
        let restart = restart_of(sup, dynamic, c);
        o.str("id", &c.id)
            .opt_pid("pid", pid)
            .str(
                "kind",
                match c.kind {
                    ChildKind::Worker => "worker",
                    ChildKind::Supervisor => "supervisor",
                },
            )
            .opt_str("restart", restart)
            .opt_str(
                "name",
                pid.and_then(|p| self.names.get(&p)).map(String::as_str),
            );
        match (c.kind, pid) {
            (ChildKind::Supervisor, Some(p)) => {
                o.opt_str("behaviour", self.behaviour(p));
                self.children(o, p, depth + 1)
            }
            _ => {
                o.array("children");
            }
        }
    }
}

fn static_children(pid: Pid) -> Result<Vec<ChildInfo>, CallError> {
    let sup = SupRef::from(ServerRef::<Supervisor>::from_pid(pid)).timeout(CALL_TIMEOUT);
    supervisor::which_children(sup)
}

fn dynamic_children(pid: Pid) -> Result<Vec<ChildInfo>, CallError> {
    let sup = SupRef::from(ServerRef::<DynamicSupervisor>::from_pid(pid)).timeout(CALL_TIMEOUT);
    dynamic_supervisor::which_children(sup)
}

/// The child's restart type, from its spec (`None` if the supervisor does not
/// say in time, or the child has no pid to name it by in a dynamic supervisor).
fn restart_of(sup: Pid, dynamic: bool, c: &ChildInfo) -> Option<&'static str> {
    let spec = if dynamic {
        let r = SupRef::from(ServerRef::<DynamicSupervisor>::from_pid(sup)).timeout(CALL_TIMEOUT);
        dynamic_supervisor::get_childspec(r, c.pid.pid()?)
    } else {
        let r = SupRef::from(ServerRef::<Supervisor>::from_pid(sup)).timeout(CALL_TIMEOUT);
        supervisor::get_childspec(r, &c.id)
    };
    Some(match spec.ok()?.restart {
        Restart::Permanent => "permanent",
        Restart::Transient => "transient",
        Restart::Temporary => "temporary",
    })
}
