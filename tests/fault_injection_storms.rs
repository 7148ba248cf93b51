//! Restart storms: 1,000 children crashing repeatedly under a one_for_one
//! supervisor and a DynamicSupervisor. Within the intensity every crash is exactly
//! one restart and every child ends up alive; beyond the default intensity (3 in
//! 5 s) the supervisor gives up with `Shutdown`, exactly three restarts having
//! happened, and no process is left (`beamlet::processes()` returns to its
//! baseline). Timeouts only guard hangs.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use beamlet::otp::dynamic_supervisor::{self, DynamicOptions, DynamicSupervisor};
use beamlet::otp::gen_server::{self, ServerRef};
use beamlet::otp::supervisor::{self, ChildPid, ChildSpec, Supervisor, SupervisorFlags};
use beamlet::{
    Down, Exit, ExitReason, Message, Pid, exit, exit_pid, is_alive, monitor, processes, receive,
    receive_select, sleep, spawn_link, trap_exit,
};
use common::{PATIENCE, run};

fn live() -> HashSet<Pid> {
    processes().into_iter().collect()
}

fn down_reason(pid: Pid) -> ExitReason {
    let pred = |m: &Message| m.downcast_ref::<Down>().is_some_and(|d| d.pid == pid);
    let msg = receive_select(None, pred, Some(PATIENCE)).expect("a Down");
    msg.downcast::<Down>().unwrap().reason
}

fn exit_from(pid: Pid) -> ExitReason {
    let pred = |m: &Message| m.downcast_ref::<Exit>().is_some_and(|e| e.from == pid);
    let msg = receive_select(None, pred, Some(PATIENCE)).expect("an Exit");
    msg.downcast::<Exit>().unwrap().reason
}

fn pids(sup: ServerRef<Supervisor>) -> Vec<Pid> {
    let children = supervisor::which_children(sup).unwrap();
    children
        .iter()
        .map(|c| c.pid.pid().expect("running"))
        .collect()
}

/// Children per storm.
const N: usize = 1_000;

/// Counts the starts of storm children; a child crashes at once while crashes are
/// left in the budget.
#[derive(Clone)]
struct Storm {
    starts: Arc<AtomicUsize>,
    budget: Arc<AtomicUsize>,
}

impl Storm {
    fn new(crashes: usize) -> Storm {
        Storm {
            starts: Arc::new(AtomicUsize::new(0)),
            budget: Arc::new(AtomicUsize::new(crashes)),
        }
    }

    fn spec(&self, id: String) -> ChildSpec {
        let storm = self.clone();
        ChildSpec::worker(id, move || {
            storm.starts.fetch_add(1, Ordering::SeqCst);
            let budget = storm.budget.clone();
            spawn_link(move || {
                let crash = budget
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
                if crash {
                    exit(ExitReason::custom("crash"));
                }
                loop {
                    receive::<()>();
                }
            })
        })
    }

    fn starts(&self) -> usize {
        self.starts.load(Ordering::SeqCst)
    }

    /// Waits until `n` starts have happened (a hang guard, not a timing).
    fn wait_starts(&self, n: usize) {
        let deadline = Instant::now() + PATIENCE;
        while self.starts() < n {
            assert!(Instant::now() < deadline, "{} of {n} starts", self.starts());
            sleep(Duration::from_millis(1));
        }
        assert_eq!(self.starts(), n);
    }
}

fn storm_specs(storm: &Storm) -> Vec<ChildSpec> {
    (0..N).map(|i| storm.spec(format!("c{i}"))).collect()
}

/// Every child listed is running, alive and distinct; returns them.
fn all_alive(listed: &[(String, ChildPid)]) -> Vec<Pid> {
    let running: Vec<Pid> = listed
        .iter()
        .map(|(_, p)| p.pid().expect("running"))
        .collect();
    assert!(running.iter().all(|&p| is_alive(p)));
    assert_eq!(running.iter().collect::<HashSet<_>>().len(), running.len());
    running
}

#[test]
fn a_restart_storm_within_the_intensity_ends_with_every_child_alive() {
    run(|| {
        trap_exit(true);
        let baseline = live();
        let storm = Storm::new(3 * N);
        let flags = SupervisorFlags {
            max_restarts: 10 * N as u32,
            ..SupervisorFlags::default()
        };
        let sup = supervisor::start_link(storm_specs(&storm), flags).unwrap();
        // Every crash is one restart: 3N crashes, N + 3N starts, then calm.
        storm.wait_starts(4 * N);
        let listed: Vec<(String, ChildPid)> = supervisor::which_children(sup)
            .unwrap()
            .into_iter()
            .map(|c| (c.id, c.pid))
            .collect();
        let ids: Vec<String> = (0..N).map(|i| format!("c{i}")).collect();
        assert_eq!(
            listed.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(),
            ids
        );
        assert_eq!(all_alive(&listed).len(), N);
        assert_eq!(supervisor::count_children(sup).unwrap().active, N);
        assert_eq!(storm.starts(), 4 * N);
        gen_server::stop(sup, ExitReason::Shutdown, PATIENCE).unwrap();
        assert_eq!(live(), baseline);
    });
}

#[test]
fn a_restart_storm_beyond_the_default_intensity_shuts_the_supervisor_down() {
    run(|| {
        trap_exit(true);
        let baseline = live();
        let storm = Storm::new(0);
        let sup = supervisor::start_link(storm_specs(&storm), SupervisorFlags::default()).unwrap();
        monitor(sup.pid());
        let children = pids(sup);
        assert_eq!(children.len(), N);
        for &c in &children {
            exit_pid(c, ExitReason::custom("crash"));
        }
        // 3 restarts in 5 s are allowed; the fourth crash exceeds the intensity.
        assert_eq!(exit_from(sup.pid()), ExitReason::Shutdown);
        assert_eq!(down_reason(sup.pid()), ExitReason::Shutdown);
        assert_eq!(storm.starts(), N + 3);
        assert!(children.iter().all(|&c| !is_alive(c)));
        assert_eq!(live(), baseline);
    });
}

fn dynamic_listed(sup: ServerRef<DynamicSupervisor>) -> Vec<(String, ChildPid)> {
    dynamic_supervisor::which_children(sup)
        .unwrap()
        .into_iter()
        .map(|c| (c.id, c.pid))
        .collect()
}

#[test]
fn a_dynamic_supervisor_restart_storm_within_the_intensity_ends_with_every_child_alive() {
    run(|| {
        trap_exit(true);
        let baseline = live();
        let storm = Storm::new(3 * N);
        let opts = DynamicOptions {
            max_restarts: 10 * N as u32,
            ..DynamicOptions::default()
        };
        let sup = dynamic_supervisor::start_link(opts).unwrap();
        for i in 0..N {
            let pid = dynamic_supervisor::start_child(sup, storm.spec(format!("c{i}")));
            assert!(matches!(pid, Ok(Some(_))), "{pid:?}");
        }
        storm.wait_starts(4 * N);
        let listed = dynamic_listed(sup);
        assert_eq!(listed.len(), N);
        assert_eq!(all_alive(&listed).len(), N);
        assert_eq!(dynamic_supervisor::count_children(sup).unwrap().active, N);
        assert_eq!(storm.starts(), 4 * N);
        gen_server::stop(sup, ExitReason::Shutdown, PATIENCE).unwrap();
        assert_eq!(live(), baseline);
    });
}

#[test]
fn a_dynamic_supervisor_restart_storm_beyond_the_default_intensity_shuts_it_down() {
    run(|| {
        trap_exit(true);
        let baseline = live();
        let storm = Storm::new(0);
        let sup = dynamic_supervisor::start_link(DynamicOptions::default()).unwrap();
        monitor(sup.pid());
        let children: Vec<Pid> = (0..N)
            .map(|i| {
                let spec = storm.spec(format!("c{i}"));
                dynamic_supervisor::start_child(sup, spec).unwrap().unwrap()
            })
            .collect();
        for &c in &children {
            exit_pid(c, ExitReason::custom("crash"));
        }
        assert_eq!(exit_from(sup.pid()), ExitReason::Shutdown);
        assert_eq!(down_reason(sup.pid()), ExitReason::Shutdown);
        assert_eq!(storm.starts(), N + 3);
        assert!(children.iter().all(|&c| !is_alive(c)));
        assert_eq!(live(), baseline);
    });
}
