//! The observer's API (`beamlet::otp::observer`): start and stop, its typed errors,
//! and the JSON of each endpoint against processes and a supervision tree built
//! here; the actions with actions on and off; the token. The client is
//! `tests/common/http.rs`; answers are read with `serde_json`.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use beamlet::otp::application::{self, Application, RestartType};
use beamlet::otp::gen_server::{self, GenServer, Init, StartError, StartOptions};
use beamlet::otp::observer::{self, Config, Observer, ObserverError, ObserverMessage};
use beamlet::otp::supervisor::{self, ChildSpec, SupervisorFlags};
use beamlet::otp::{dynamic_supervisor, sys};
use beamlet::{MailboxLimit, OverflowPolicy, Pid, Runtime, receive, spawn_link};
use common::PATIENCE;
use common::http;
use serde_json::Value;

fn local() -> Config {
    Config::new(([127, 0, 0, 1], 0))
}

fn observed(config: Config) -> (Runtime, Observer) {
    let rt = common::runtime();
    let obs = observer::start_in(&rt, config).expect("observer starts");
    (rt, obs)
}

fn finish(rt: Runtime, obs: Observer) {
    obs.stop();
    common::stop(rt);
}

/// Runs `f` in a process that then stays alive (holding what it linked to) until
/// the runtime shuts down; returns what `f` returned.
fn hold<T: Send + 'static>(rt: &Runtime, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    rt.spawn(move || {
        tx.send(f()).unwrap();
        loop {
            receive::<Never>();
        }
    })
    .unwrap();
    rx.recv_timeout(PATIENCE).expect("the holder started")
}

/// A message nobody sends: a process waiting for it keeps its mailbox.
struct Never;

/// A pid as a URL path writes it: `1.5.0`.
fn path_pid(pid: Pid) -> String {
    pid.to_string().trim_matches(['<', '>']).to_string()
}

fn names(rows: &Value) -> Vec<&str> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap_or("-"))
        .collect()
}

struct Cell(u32);

impl GenServer for Cell {
    type Args = u32;
    type Call = ();
    type Reply = ();
    type Cast = ();
    type Continue = ();
    fn init(n: u32) -> Init<Self, ()> {
        Init::Ok(Cell(n))
    }
    fn format_status(&self) -> String {
        format!("Cell({})", self.0)
    }
}

fn cell(name: &'static str, n: u32) -> Result<Pid, StartError> {
    gen_server::start_link_with::<Cell>(n, StartOptions::new().name(name)).map(Into::into)
}

#[test]
fn starts_serves_and_stops() {
    common::watchdog(PATIENCE, || {
        let (rt, obs) = observed(local());
        let addr = obs.local_addr();
        assert!(addr.ip().is_loopback() && addr.port() != 0);
        let config = http::get(addr, "/api/config");
        assert_eq!(config.status, 200);
        assert_eq!(config.header("cache-control"), Some("no-store"));
        assert_eq!(config.json()["actions"], false);
        assert_eq!(config.json()["version"], env!("CARGO_PKG_VERSION"));
        let page = http::get(addr, "/");
        assert_eq!(
            page.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert!(page.body.contains("<title>beamlet observer</title>"));
        obs.stop();
        let refused = std::net::TcpStream::connect(addr).unwrap_err();
        assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
        common::stop(rt);
    });
}

#[test]
fn start_refuses_remote_without_token_and_reports_bind_failures() {
    common::watchdog(PATIENCE, || {
        let rt = common::runtime();
        let any = Config::new(([0, 0, 0, 0], 0));
        let r = observer::start_in(&rt, any.clone());
        assert!(
            matches!(r, Err(ObserverError::RemoteNotAllowed(_))),
            "{r:?}"
        );
        let r = observer::start_in(&rt, any.clone().allow_remote(true));
        assert!(
            matches!(r, Err(ObserverError::RemoteWithoutToken(_))),
            "{r:?}"
        );
        let remote = observer::start_in(&rt, any.allow_remote(true).token("t")).unwrap();
        remote.stop();

        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let r = observer::start_in(&rt, Config::new(taken.local_addr().unwrap()));
        match r {
            Err(ObserverError::Bind(e)) => assert_eq!(e.kind(), std::io::ErrorKind::AddrInUse),
            other => panic!("expected a bind error, got {other:?}"),
        }
        common::stop(rt);
    });
}

#[test]
fn the_process_table_sorts_filters_and_pages() {
    common::watchdog(PATIENCE, || {
        let (rt, obs) = observed(local());
        let addr = obs.local_addr();
        // Three named processes with 1, 2 and 3 messages waiting. Reading a
        // mailbox's length once meters it, so the count includes unread messages.
        let (holder, pids) = hold(&rt, || {
            let pids: Vec<Pid> = (1..=3u8)
                .map(|n| {
                    let pid = spawn_link(|| {
                        loop {
                            receive::<Never>();
                        }
                    })
                    .unwrap();
                    beamlet::register(&format!("obs_q{n}"), pid).unwrap();
                    beamlet::message_queue_len_of(pid);
                    for _ in 0..n {
                        beamlet::send(pid, n).unwrap();
                    }
                    pid
                })
                .collect();
            (beamlet::self_pid(), pids)
        });

        let q = "/api/processes?sort=message_queue_len&order=desc&filter=obs_q";
        let t = http::get(addr, q).json();
        assert_eq!(names(&t["rows"]), ["obs_q3", "obs_q2", "obs_q1"]);
        assert_eq!(
            (t["matched"].as_u64(), t["offset"].as_u64()),
            (Some(3), Some(0))
        );
        assert!(t["total"].as_u64().unwrap() >= 5, "{t}");
        assert_eq!(
            (t["sort"].as_str(), t["order"].as_str()),
            (Some("message_queue_len"), Some("desc"))
        );
        let row = &t["rows"][0];
        assert_eq!(row["pid"], pids[2].to_string());
        assert_eq!(row["message_queue_len"], 3);
        assert_eq!(row["status"], "waiting");
        assert_eq!(row["parent"], holder.to_string());
        assert_eq!(row["behaviour"], Value::Null);
        assert!(
            row["initial_call"]
                .as_str()
                .unwrap()
                .contains("observer.rs"),
            "{row}"
        );

        let page = http::get(addr, &format!("{q}&offset=1&limit=1")).json();
        assert_eq!(names(&page["rows"]), ["obs_q2"]);
        assert_eq!(page["limit"], 1);
        let asc = http::get(addr, "/api/processes?sort=name&order=asc&filter=OBS_Q").json();
        assert_eq!(names(&asc["rows"]), ["obs_q1", "obs_q2", "obs_q3"]);
        let by_pid = format!(
            "/api/processes?filter={}",
            pids[1].to_string().replace('<', "%3C").replace('>', "%3E")
        );
        assert_eq!(names(&http::get(addr, &by_pid).json()["rows"]), ["obs_q2"]);
        // Named processes first when sorting by name, whatever else runs.
        let all = http::get(addr, "/api/processes?sort=name&order=asc&limit=3").json();
        assert_eq!(names(&all["rows"]), ["obs_q1", "obs_q2", "obs_q3"]);

        assert_eq!(
            http::get(addr, "/api/processes?limit=100000").json()["limit"],
            500
        );
        for bad in ["sort=colour", "order=up", "offset=-1", "limit=many"] {
            let r = http::get(addr, &format!("/api/processes?{bad}"));
            assert_eq!(r.status, 400, "{bad}");
        }
        finish(rt, obs);
    });
}

#[test]
fn a_process_detail_shows_links_and_the_behaviour_status() {
    common::watchdog(PATIENCE, || {
        let (rt, obs) = observed(local());
        let addr = obs.local_addr();
        let (holder, cell) = hold(&rt, || (beamlet::self_pid(), cell("obs_cell", 5).unwrap()));
        for written in [
            path_pid(cell),
            cell.to_string().replace('<', "%3C").replace('>', "%3E"),
        ] {
            let d = http::get(addr, &format!("/api/process/{written}"));
            assert_eq!(d.status, 200, "{written}");
            let d = d.json();
            assert_eq!(d["pid"], cell.to_string());
            assert_eq!(d["name"], "obs_cell");
            assert_eq!(d["behaviour"], "gen_server");
            assert!(d["module"].as_str().unwrap().ends_with("Cell"));
            assert_eq!(d["links"], Value::from(vec![holder.to_string()]));
            assert_eq!(
                (d["trap_exit"].as_bool(), d["priority"].as_str()),
                (Some(false), Some("normal"))
            );
            assert!(d["stack_reserved"].as_u64().is_some() && d["mailbox_limit"].is_null());
            let status = &d["status_detail"];
            assert_eq!(status["behaviour"], "gen_server");
            assert_eq!(
                (status["suspended"].as_bool(), status["state"].as_str()),
                (Some(false), Some("Cell(5)"))
            );
        }
        // A plain process has no status to ask for.
        let d = http::get(addr, &format!("/api/process/{}", path_pid(holder))).json();
        assert_eq!(d["status_detail"], Value::Null);
        let limited = hold(&rt, || {
            let limit = MailboxLimit::new(8, OverflowPolicy::DropNewest);
            beamlet::spawn_limited(limit, || {
                loop {
                    receive::<Never>();
                }
            })
            .unwrap()
        });
        let d = http::get(addr, &format!("/api/process/{}", path_pid(limited))).json();
        let limit = &d["mailbox_limit"];
        assert_eq!(
            (limit["max"].as_u64(), limit["policy"].as_str()),
            (Some(8), Some("drop_newest"))
        );

        let dead = rt.block_on(beamlet::self_pid).unwrap();
        for gone in [path_pid(dead), "1.2".into(), "nonsense".into()] {
            let r = http::get(addr, &format!("/api/process/{gone}"));
            assert_eq!(
                (r.status, r.json()["error"].as_str()),
                (404, Some("no such process")),
                "{gone}"
            );
        }
        finish(rt, obs);
    });
}

/// An application whose top supervisor has a worker, a nested supervisor and a
/// dynamic supervisor with two children.
fn shop() -> Result<Pid, StartError> {
    let mid = || {
        let leaf = ChildSpec::worker("leaf", || cell("obs_leaf", 0));
        let opts = StartOptions::new().name("obs_mid");
        supervisor::start_link_with(vec![leaf], SupervisorFlags::default(), opts)
    };
    let jobs = || {
        let opts = StartOptions::new().name("obs_jobs");
        let sup = dynamic_supervisor::start_link_with(Default::default(), opts)?;
        for n in 0..2 {
            let spec = ChildSpec::worker("job", move || cell(["obs_job0", "obs_job1"][n], 0));
            dynamic_supervisor::start_child(sup, spec).expect("a job starts");
        }
        Ok::<_, StartError>(sup)
    };
    let children = vec![
        ChildSpec::worker("cache", || cell("obs_cache", 1)),
        ChildSpec::supervisor("mid", mid),
        ChildSpec::supervisor("jobs", jobs),
    ];
    let opts = StartOptions::new().name("obs_top");
    supervisor::start_link_with(children, SupervisorFlags::default(), opts).map(Into::into)
}

fn start_shop(rt: &Runtime) {
    hold(rt, || {
        application::load(Application::new("obs_shop", shop)).unwrap();
        application::start("obs_shop", RestartType::Temporary).unwrap();
    });
}

fn child<'a>(node: &'a Value, id: &str) -> &'a Value {
    let children = node["children"].as_array().unwrap();
    children
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no child {id} in {node}"))
}

#[test]
fn the_tree_walks_nested_and_dynamic_supervisors() {
    common::watchdog(PATIENCE, || {
        let (rt, obs) = observed(local());
        let addr = obs.local_addr();
        start_shop(&rt);
        let tree = http::get(addr, "/api/tree").json();
        let roots = tree["roots"].as_array().unwrap();
        let top = roots
            .iter()
            .find(|r| r["name"] == "obs_top")
            .expect("obs_top is a root");
        assert_eq!(
            (top["kind"].as_str(), top["application"].as_str()),
            (Some("supervisor"), Some("obs_shop"))
        );
        let ids: Vec<_> = top["children"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["cache", "mid", "jobs"]);

        let cache = child(top, "cache");
        assert_eq!(
            (cache["kind"].as_str(), cache["restart"].as_str()),
            (Some("worker"), Some("permanent"))
        );
        assert_eq!(cache["name"], "obs_cache");
        let mid = child(top, "mid");
        assert_eq!(
            (mid["kind"].as_str(), mid["name"].as_str()),
            (Some("supervisor"), Some("obs_mid"))
        );
        assert_eq!(child(mid, "leaf")["name"], "obs_leaf");
        assert_eq!(top["behaviour"], "supervisor");
        let jobs = child(top, "jobs");
        assert_eq!(jobs["behaviour"], "dynamic_supervisor");
        let mut job_names: Vec<_> = jobs["children"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        job_names.sort();
        assert_eq!(job_names, ["obs_job0", "obs_job1"]);
        assert_eq!(jobs["children"][0]["restart"], "permanent");
        // Nested supervisors are not roots.
        assert!(
            !roots
                .iter()
                .any(|r| r["name"] == "obs_mid" || r["name"] == "obs_jobs")
        );
        finish(rt, obs);
    });
}

/// Polls `f` until it returns `Some` (a hang guard bounds it).
fn eventually<T>(mut f: impl FnMut() -> Option<T>) -> T {
    loop {
        if let Some(v) = f() {
            return v;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn actions_kill_suspend_resume_and_send() {
    common::watchdog(PATIENCE, || {
        let (rt, obs) = observed(local().actions(true));
        let addr = obs.local_addr();
        assert_eq!(http::get(addr, "/api/config").json()["actions"], true);
        start_shop(&rt);
        let cache = rt
            .block_on(|| beamlet::whereis("obs_cache").unwrap())
            .unwrap();

        let killed = http::post(addr, &format!("/api/process/{}/kill", path_pid(cache)), b"");
        assert_eq!(
            (killed.status, killed.body.as_str()),
            (200, r#"{"ok":true}"#)
        );
        // The supervisor restarts it under a new pid.
        let again = eventually(|| {
            rt.block_on(|| beamlet::whereis("obs_cache"))
                .unwrap()
                .filter(|p| *p != cache)
        });
        assert_ne!(again, cache);

        let suspend = http::post(
            addr,
            &format!("/api/process/{}/suspend", path_pid(again)),
            b"",
        );
        assert_eq!(suspend.status, 200);
        let detail = |pid| http::get(addr, &format!("/api/process/{}", path_pid(pid))).json();
        assert_eq!(detail(again)["status_detail"]["suspended"], true);
        let resume = http::post(
            addr,
            &format!("/api/process/{}/resume", path_pid(again)),
            b"",
        );
        assert_eq!(resume.status, 200);
        let suspended = rt.block_on(move || sys::get_status(again).unwrap().suspended);
        assert!(!suspended.unwrap());

        let (tx, rx) = mpsc::channel();
        let listener = hold(&rt, move || {
            beamlet::spawn(move || tx.send(receive::<ObserverMessage>().0).unwrap()).unwrap()
        });
        let plain = http::post(
            addr,
            &format!("/api/process/{}/suspend", path_pid(listener)),
            b"",
        );
        assert_eq!(plain.status, 409, "a plain process cannot be suspended");
        let bad = http::post(
            addr,
            &format!("/api/process/{}/send", path_pid(listener)),
            b"\xff\xfe",
        );
        assert_eq!(bad.status, 400);
        let sent = http::post(
            addr,
            &format!("/api/process/{}/send", path_pid(listener)),
            "hello 👋".as_bytes(),
        );
        assert_eq!(sent.status, 200);
        assert_eq!(rx.recv_timeout(PATIENCE).unwrap(), "hello 👋");

        let dead = rt.block_on(beamlet::self_pid).unwrap();
        assert_eq!(
            http::post(addr, &format!("/api/process/{}/kill", path_pid(dead)), b"").status,
            404
        );
        finish(rt, obs);
    });
}

#[test]
fn actions_are_403_when_off() {
    common::watchdog(PATIENCE, || {
        let (rt, obs) = observed(local());
        let addr = obs.local_addr();
        let cell = hold(&rt, || cell("obs_safe", 0).unwrap());
        for action in ["kill", "suspend", "resume", "send"] {
            let r = http::post(
                addr,
                &format!("/api/process/{}/{action}", path_pid(cell)),
                b"x",
            );
            assert_eq!(
                (r.status, r.json()["error"].as_str()),
                (403, Some("actions are off")),
                "{action}"
            );
        }
        assert!(rt.block_on(move || beamlet::is_alive(cell)).unwrap());
        finish(rt, obs);
    });
}

#[test]
fn a_token_is_required_when_set() {
    common::watchdog(PATIENCE, || {
        let (rt, obs) = observed(local().token("s3cret"));
        let addr = obs.local_addr();
        let none = http::get(addr, "/api/config");
        assert_eq!(none.status, 401);
        assert_eq!(none.header("www-authenticate"), Some("Bearer"));
        assert_eq!(http::get(addr, "/api/config?token=wrong").status, 401);
        let wrong = http::request(
            addr,
            "GET",
            "/api/config",
            &["Authorization: Bearer s3cre"],
            b"",
        );
        assert_eq!(wrong.status, 401);
        let bearer = http::request(
            addr,
            "GET",
            "/api/config",
            &["Authorization: Bearer s3cret"],
            b"",
        );
        assert_eq!(bearer.status, 200);
        assert_eq!(http::get(addr, "/api/config?token=s3cret").status, 200);
        assert_eq!(http::get(addr, "/?token=s3cret").status, 200);
        finish(rt, obs);
    });
}

#[test]
fn other_sites_and_hosts_are_refused() {
    common::watchdog(PATIENCE, || {
        let (rt, obs) = observed(local().actions(true));
        let addr = obs.local_addr();
        let cell = hold(&rt, || cell("obs_target", 0).unwrap());
        let kill = format!("/api/process/{}/kill", path_pid(cell));
        let evil = http::request(addr, "POST", &kill, &["Origin: http://evil.example"], b"");
        assert_eq!(
            (evil.status, evil.json()["error"].as_str()),
            (403, Some("cross-origin request"))
        );
        assert!(rt.block_on(move || beamlet::is_alive(cell)).unwrap());
        let rebound = format!(
            "GET /api/config HTTP/1.1\r\nHost: evil.example:{}\r\n\r\n",
            addr.port()
        );
        assert_eq!(http::raw(addr, rebound.as_bytes()).status, 403);
        let same = format!("Origin: http://{addr}");
        assert_eq!(
            http::request(addr, "POST", &kill, &[&same], b"").status,
            200
        );
        finish(rt, obs);
    });
}

#[test]
fn system_figures_and_their_event_stream() {
    common::watchdog(PATIENCE, || {
        let (rt, obs) = observed(local().sample_interval(Duration::from_millis(20)));
        let addr = obs.local_addr();
        let sys = http::get(addr, "/api/system").json();
        assert!(sys["process_count"].as_u64().unwrap() >= 2, "{sys}");
        assert_eq!(sys["schedulers"].as_array().unwrap().len(), 2);
        for key in [
            "uptime_ms",
            "spawned",
            "exited",
            "reductions",
            "context_switches",
            "timers_pending",
            "sockets_open",
            "io_polls",
        ] {
            assert!(sys[key].is_u64(), "{key} in {sys}");
        }
        for key in ["spawn_rate", "exit_rate"] {
            assert!(sys[key].is_number(), "{key}");
        }
        let s0 = &sys["schedulers"][0];
        assert!(
            s0["utilisation"]
                .as_f64()
                .is_some_and(|u| (0.0..=1.0).contains(&u))
                && s0["run_queue"].is_u64()
        );
        assert!(sys["memory"]["stacks_carved"].is_u64() && sys["events"].is_array());
        // The stream: a head, then `event: system` with the same JSON.
        let mut s = http::connect(addr);
        use std::io::{BufRead, Write};
        write!(s, "GET /api/events HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
        let mut lines = std::io::BufReader::new(s).lines().map(Result::unwrap);
        assert!(lines.next().unwrap().starts_with("HTTP/1.1 200"));
        assert!(
            lines
                .by_ref()
                .take_while(|l| !l.is_empty())
                .any(|l| l == "Content-Type: text/event-stream")
        );
        let mut events = 0;
        while events < 2 {
            let line = lines.next().unwrap();
            if line == "event: system" {
                let data = lines.next().unwrap();
                let json: Value =
                    serde_json::from_str(data.strip_prefix("data: ").unwrap()).unwrap();
                assert!(json["process_count"].is_u64());
                events += 1;
            }
        }
        finish(rt, obs);
    });
}

#[test]
fn the_sampler_runs_only_while_someone_looks() {
    common::watchdog(PATIENCE, || {
        let (rt, obs) = observed(local().sample_interval(Duration::from_millis(10)));
        let addr = obs.local_addr();
        let samplers = |rt: &Runtime| {
            rt.block_on(|| {
                let mut n = 0;
                beamlet::for_each_process(|p| {
                    n += usize::from(p.label.as_deref() == Some("observer sampler"))
                });
                n
            })
            .unwrap()
        };
        assert_eq!(samplers(&rt), 0, "nobody looked yet");
        // While an event stream is open the sampler runs.
        let mut s = http::connect(addr);
        use std::io::{BufRead, Write};
        write!(s, "GET /api/events HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
        let mut lines = std::io::BufReader::new(s).lines().map(Result::unwrap);
        assert!(lines.any(|l| l == "event: system"));
        assert_eq!(samplers(&rt), 1);
        // Left alone, it exits after a few intervals.
        drop(lines);
        eventually(|| (samplers(&rt) == 0).then_some(()));
        assert_eq!(http::get(addr, "/api/system").status, 200);
        finish(rt, obs);
    });
}

#[test]
fn a_killed_sampler_is_replaced_at_the_next_look() {
    common::watchdog(PATIENCE, || {
        let config = local()
            .actions(true)
            .sample_interval(Duration::from_millis(10));
        let (rt, obs) = observed(config);
        let addr = obs.local_addr();
        let sampler = || {
            let t = http::get(addr, "/api/processes?filter=observer+sampler").json();
            t["rows"]
                .as_array()
                .unwrap()
                .first()
                .map(|r| r["pid"].as_str().unwrap().to_string())
        };
        let mut s = http::connect(addr);
        use std::io::{BufRead, Write};
        write!(s, "GET /api/events HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
        let mut lines = std::io::BufReader::new(s).lines().map(Result::unwrap);
        assert!(lines.any(|l| l == "event: system"));
        let first = sampler().expect("a sampler runs while the stream is open");
        let kill = http::post(
            addr,
            &format!("/api/process/{}/kill", first.trim_matches(['<', '>'])),
            b"",
        );
        assert_eq!(kill.status, 200);
        let second = eventually(|| sampler().filter(|p| *p != first));
        assert_ne!(second, first);
        // The stream goes on.
        assert!(lines.any(|l| l == "event: system"));
        drop(lines);
        finish(rt, obs);
    });
}
