//! The live observer on a small shop: a supervision tree of named processes, some
//! load, and the observer's page to watch them.
//!
//! ```text
//! cargo run --release --example observer                # http://127.0.0.1:4000/, until Ctrl-C
//! cargo run --release --example observer -- --port 0    # any free port (the URL is printed)
//! cargo run --release --example observer -- --secs 60   # stop after a minute
//! BEAMLET_CI=1 cargo run --release --example observer   # self-test, then exit
//! ```
//!
//! What runs (the page's "Supervision trees" tab shows it):
//!
//! ```text
//! application shop
//! └── shop_sup            supervisor, one_for_one
//!     ├── inventory       GenServer: stock counts; shows what the page sends it
//!     ├── orders          GenServer: places an order every 200 ms through inventory
//!     ├── payments_sup    supervisor
//!     │   └── gateway     GenServer: authorises the orders' payments
//!     ├── sessions        dynamic supervisor: sessions opened by the doorman,
//!     │   └── session N   each staying 2 to 20 s (three stay for good)
//!     └── backlog         GenServer that takes 20 ms a job: its queue grows
//! doorman                 opens a session every 500 ms
//! producer 1..3           plain processes casting jobs to backlog
//! spinner                 a CPU-bound process: 50 ms of work, 50 ms of sleep
//! ```
//!
//! Kill `inventory` from the page (its detail panel, "kill") and `shop_sup` restarts
//! it: a new pid appears under the same name. Sort the table by "msg queue" and
//! `backlog` is first. The producers hold back while backlog's queue is over
//! [`BACKLOG_CAP`], so the demo's memory stays bounded however long it runs.
//!
//! The URL is printed on stdout as the line `observer: http://127.0.0.1:PORT/` (the
//! browser test in tests/browser reads it). With `BEAMLET_CI=1` the example starts
//! everything, requests the page and two JSON endpoints from itself over plain
//! `std::net` (on a dirty I/O thread, where blocking is allowed), checks each
//! answers 200, and exits.

mod common;

use std::collections::BTreeMap;
use std::fmt;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

use beamlet::otp::application::{self, Application, ApplicationError, RestartType};
use beamlet::otp::dynamic_supervisor::{self, DynamicOptions, DynamicSupervisor};
use beamlet::otp::gen_server::{
    self, CallReply, Caller, GenServer, Init, NoReply, ServerRef, StartOptions,
};
use beamlet::otp::observer::{self, Config, ObserverError, ObserverMessage};
use beamlet::otp::supervisor::{self, ChildSpec, Restart, SupervisorFlags};
use beamlet::{Message, Pid, ProcessInfo};
use common::cli::Param;

/// The producers pause while backlog has more jobs than this waiting.
const BACKLOG_CAP: usize = 2_000;

/// How long backlog takes per job.
const JOB_TIME: Duration = Duration::from_millis(20);

/// The stock: item name to count. Its `Debug` text is what the page's detail
/// panel shows as the state.
#[derive(Debug)]
struct Inventory {
    stock: BTreeMap<&'static str, u32>,
    /// The last text the observer page sent (the "send" action).
    last_message: Option<String>,
}

/// Takes one item out of stock; replies whether there was one.
#[derive(Debug)]
struct Take(&'static str);

impl GenServer for Inventory {
    type Args = ();
    type Call = Take;
    type Reply = bool;
    type Cast = ();
    type Continue = ();

    fn init(_: ()) -> Init<Self, ()> {
        let stock = [("apple", 40), ("pear", 25), ("plum", 60)]
            .into_iter()
            .collect();
        Init::Ok(Inventory {
            stock,
            last_message: None,
        })
    }

    fn handle_call(&mut self, Take(item): Take, _: Caller<bool>) -> CallReply<bool, ()> {
        let left = self.stock.entry(item).or_insert(0);
        // Restock when empty, so the demo runs forever.
        if *left == 0 {
            *left = 50;
        }
        *left -= 1;
        CallReply::Reply(true)
    }

    fn handle_info(&mut self, msg: Message) -> NoReply<()> {
        if let Ok(ObserverMessage(text)) = msg.downcast::<ObserverMessage>() {
            println!("inventory: the observer says {text:?}");
            self.last_message = Some(text);
        }
        NoReply::Ok
    }

    fn format_status(&self) -> String {
        format!("{self:?}")
    }
}

/// Places an order every 200 ms: takes an item from inventory, has the gateway
/// authorise the payment.
#[derive(Debug, Default)]
struct Orders {
    placed: u64,
    declined: u64,
}

/// The order timer's tick.
struct Tick;

const ITEMS: [&str; 3] = ["apple", "pear", "plum"];

impl GenServer for Orders {
    type Args = ();
    type Call = ();
    type Reply = ();
    type Cast = ();
    type Continue = ();

    fn init(_: ()) -> Init<Self, ()> {
        beamlet::send_after(Duration::from_millis(200), beamlet::self_pid(), Tick);
        Init::Ok(Orders::default())
    }

    fn handle_info(&mut self, msg: Message) -> NoReply<()> {
        if msg.is::<Tick>() {
            let item = ITEMS[(self.placed % 3) as usize];
            // Either may be down for a moment (killed from the page and restarting):
            // that order is declined, the next one goes through.
            let taken = gen_server::call_named::<Inventory>("inventory", Take(item)) == Ok(true);
            let paid = taken && gen_server::call_named::<Gateway>("gateway", 3) == Ok(true);
            if paid {
                self.placed += 1;
            } else {
                self.declined += 1;
            }
            beamlet::send_after(Duration::from_millis(200), beamlet::self_pid(), Tick);
        }
        NoReply::Ok
    }

    fn format_status(&self) -> String {
        format!("{self:?}")
    }
}

/// Authorises payments (of an amount in coins), counting them.
#[derive(Debug, Default)]
struct Gateway {
    authorised: u64,
    total: u64,
}

impl GenServer for Gateway {
    type Args = ();
    type Call = u64;
    type Reply = bool;
    type Cast = ();
    type Continue = ();

    fn init(_: ()) -> Init<Self, ()> {
        Init::Ok(Gateway::default())
    }

    fn handle_call(&mut self, amount: u64, _: Caller<bool>) -> CallReply<bool, ()> {
        self.authorised += 1;
        self.total += amount;
        CallReply::Reply(true)
    }

    fn format_status(&self) -> String {
        format!("{self:?}")
    }
}

/// A user's session, started under the `sessions` dynamic supervisor: it stays for
/// its lifetime, then leaves (a normal exit; sessions are temporary children). A
/// call answers whose session it is.
#[derive(Debug)]
struct Session {
    user: u32,
}

/// A session's lifetime is over.
struct Leave;

impl GenServer for Session {
    type Args = (u32, Duration);
    type Call = ();
    type Reply = u32;
    type Cast = ();
    type Continue = ();

    fn init((user, lifetime): (u32, Duration)) -> Init<Self, ()> {
        beamlet::set_label(format!("session of user {user}"));
        beamlet::send_after(lifetime, beamlet::self_pid(), Leave);
        Init::Ok(Session { user })
    }

    fn handle_call(&mut self, _: (), _: Caller<u32>) -> CallReply<u32, ()> {
        CallReply::Reply(self.user)
    }

    fn handle_info(&mut self, msg: Message) -> NoReply<()> {
        if msg.is::<Leave>() {
            return NoReply::Stop(beamlet::ExitReason::Normal);
        }
        NoReply::Ok
    }

    fn format_status(&self) -> String {
        format!("{self:?}")
    }
}

/// The slow server: each job takes [`JOB_TIME`], and jobs come faster than that.
#[derive(Debug, Default)]
struct Backlog {
    done: u64,
}

impl GenServer for Backlog {
    type Args = ();
    type Call = ();
    type Reply = ();
    type Cast = u64;
    type Continue = ();

    fn init(_: ()) -> Init<Self, ()> {
        Init::Ok(Backlog::default())
    }

    fn handle_cast(&mut self, _job: u64) -> NoReply<()> {
        beamlet::sleep(JOB_TIME);
        self.done += 1;
        NoReply::Ok
    }

    fn format_status(&self) -> String {
        format!("{self:?}")
    }
}

fn named(name: &'static str) -> StartOptions {
    StartOptions::new().name(name)
}

/// The `shop` application: its top supervisor and the tree under it.
fn shop() -> Application {
    let payments = vec![ChildSpec::worker("gateway", || {
        gen_server::start_link_with::<Gateway>((), named("gateway"))
    })];
    let children = vec![
        ChildSpec::worker("inventory", || {
            gen_server::start_link_with::<Inventory>((), named("inventory"))
        }),
        ChildSpec::worker("orders", || {
            gen_server::start_link_with::<Orders>((), named("orders"))
        }),
        ChildSpec::supervisor("payments_sup", move || {
            supervisor::start_link_with(
                payments.clone(),
                SupervisorFlags::default(),
                named("payments_sup"),
            )
        }),
        ChildSpec::supervisor("sessions", || {
            dynamic_supervisor::start_link_with(DynamicOptions::default(), named("sessions"))
        }),
        ChildSpec::worker("backlog", || {
            gen_server::start_link_with::<Backlog>((), named("backlog"))
        }),
    ];
    Application::new("shop", move || {
        // Generous restart limits: a person clicking "kill" a few times in a row
        // should see restarts, not the whole shop shutting down.
        let flags = SupervisorFlags {
            max_restarts: 100,
            ..SupervisorFlags::default()
        };
        supervisor::start_link_with(children.clone(), flags, named("shop_sup"))
    })
    .description("a small shop to watch in the observer")
    .version("0.1.0")
}

/// Starts a session for `user` under `sessions`.
fn open_session(user: u32, lifetime: Duration) -> Result<(), DemoError> {
    let sessions = ServerRef::<DynamicSupervisor>::whereis("sessions")
        .ok_or(DemoError::NotRunning("sessions"))?;
    let spec = ChildSpec::worker(format!("session {user}"), move || {
        gen_server::start_link::<Session>((user, lifetime))
    })
    .restart(Restart::Temporary);
    dynamic_supervisor::start_child(sessions, spec).map_err(DemoError::Sessions)?;
    Ok(())
}

/// The doorman: opens three long sessions, then a session every 500 ms that lasts
/// 2 to 20 s, so the process count, spawn and exit rates move (about 20 sessions
/// at a time).
fn doorman() {
    beamlet::set_label("doorman");
    for user in 1..=3 {
        // Until a session fails to start (the shop is stopping): nothing to do then.
        if open_session(user, Duration::from_secs(24 * 3600)).is_err() {
            return;
        }
    }
    for user in 4.. {
        beamlet::sleep(Duration::from_millis(500));
        // A spread of lifetimes without a random number generator.
        let lifetime = Duration::from_millis(2_000 + u64::from(user) * 7_919 % 18_000);
        if open_session(user, lifetime).is_err() {
            return;
        }
    }
}

/// A producer: casts jobs to backlog every 5 ms while its queue is under the cap.
fn producer(n: u32) {
    beamlet::set_label(format!("producer {n}"));
    let mut job = 0u64;
    loop {
        beamlet::sleep(Duration::from_millis(5));
        let Some(backlog) = ServerRef::<Backlog>::whereis("backlog") else {
            continue;
        };
        let queued =
            beamlet::process_info(backlog.pid()).map_or(0, |i: ProcessInfo| i.message_queue_len);
        if queued < BACKLOG_CAP {
            job += 1;
            gen_server::cast(backlog, job);
        }
    }
}

/// The spinner: 50 ms of arithmetic (counted in reductions), then 50 ms of sleep.
fn spinner() {
    let mut x = 1u64;
    loop {
        let until = beamlet::now() + Duration::from_millis(50);
        while beamlet::now() < until {
            // One reduction per thousand steps: about what a function call costs.
            beamlet::reduce(1);
            for _ in 0..1_000 {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            }
        }
        std::hint::black_box(x);
        beamlet::sleep(Duration::from_millis(50));
    }
}

/// Starts the load: the doorman, the producers and the spinner, unlinked, so
/// killing them from the page stops that load and nothing else.
fn start_load() -> Result<Vec<Pid>, DemoError> {
    let mut pids = vec![beamlet::spawn(doorman).map_err(DemoError::Spawn)?];
    for n in 1..=3 {
        pids.push(beamlet::spawn(move || producer(n)).map_err(DemoError::Spawn)?);
    }
    let spin = beamlet::spawn(spinner).map_err(DemoError::Spawn)?;
    beamlet::register("spinner", spin).map_err(|_| DemoError::NotRunning("spinner"))?;
    pids.push(spin);
    Ok(pids)
}

/// Why the demo failed.
#[derive(Debug)]
enum DemoError {
    Observer(ObserverError),
    Application(ApplicationError),
    Sessions(supervisor::SupervisorError),
    Spawn(beamlet::SpawnError),
    NotRunning(&'static str),
    /// The self-test's request to `path` failed or did not answer 200.
    SelfTest {
        path: &'static str,
        got: String,
    },
}

impl fmt::Display for DemoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DemoError::Observer(e) => write!(f, "the observer did not start: {e}"),
            DemoError::Application(e) => write!(f, "the shop application: {e}"),
            DemoError::Sessions(e) => write!(f, "starting a session: {e}"),
            DemoError::Spawn(e) => write!(f, "spawning the load: {e}"),
            DemoError::NotRunning(name) => write!(f, "{name} is not running"),
            DemoError::SelfTest { path, got } => write!(f, "GET {path}: {got}"),
        }
    }
}

/// One `GET path` over a plain blocking socket; returns the status line and body.
fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<(String, String)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.lines().next().unwrap_or("").to_string();
    Ok((status, body.to_string()))
}

/// The CI self-test: the page and two endpoints answer 200, and the tree has the
/// nested `gateway`. Runs the blocking requests on a dirty I/O thread.
fn self_test(addr: SocketAddr) -> Result<(), DemoError> {
    for (path, must_contain) in [
        ("/", "beamlet observer"),
        (
            "/api/processes?sort=message_queue_len&order=desc",
            "\"rows\"",
        ),
        ("/api/tree", "\"gateway\""),
    ] {
        let got = beamlet::dirty_io(move || http_get(addr, path));
        let (status, body) = match got {
            Ok(Ok(answer)) => answer,
            Ok(Err(e)) => {
                return Err(DemoError::SelfTest {
                    path,
                    got: e.to_string(),
                });
            }
            Err(e) => {
                return Err(DemoError::SelfTest {
                    path,
                    got: e.to_string(),
                });
            }
        };
        if !status.contains(" 200 ") || !body.contains(must_contain) {
            return Err(DemoError::SelfTest {
                path,
                got: format!("{status}, body without {must_contain}"),
            });
        }
        println!("self-test: GET {path}: {status}");
    }
    Ok(())
}

fn demo(port: u16, secs: u64, ci: bool) -> Result<(), DemoError> {
    application::load(shop()).map_err(DemoError::Application)?;
    application::start("shop", RestartType::Temporary).map_err(DemoError::Application)?;
    let load = start_load()?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let obs = observer::start(Config::new(addr).actions(true)).map_err(DemoError::Observer)?;
    let url = format!("http://{}/", obs.local_addr());
    println!("observer: {url}");
    if ci {
        self_test(obs.local_addr())?;
    } else if secs > 0 {
        beamlet::sleep(Duration::from_secs(secs));
    } else {
        println!("open {url} in a browser; Ctrl-C stops");
        loop {
            beamlet::sleep(Duration::from_secs(3600));
        }
    }
    obs.stop();
    for pid in load {
        beamlet::exit_pid(pid, beamlet::ExitReason::Kill);
    }
    application::stop("shop").map_err(DemoError::Application)?;
    println!("done");
    Ok(())
}

fn main() -> ExitCode {
    let ci = std::env::var("BEAMLET_CI").is_ok_and(|v| v == "1");
    let [port, secs] = common::cli::ints(
        "observer",
        "observer: a shop's supervision tree under load, watched by the live observer\n\
         (prints `observer: http://127.0.0.1:PORT/`; open it in a browser).\n\n\
         Environment: BEAMLET_CI=1 requests the page from itself instead, then exits.",
        [
            Param::new(
                "PORT",
                if ci { 0 } else { 4000 },
                "the port (0: any free one)",
            )
            .max(65535),
            Param::new(
                "SECS",
                0,
                "stop after this many seconds (0: run until Ctrl-C)",
            ),
        ],
        false,
    );
    let port = u16::try_from(port).expect("PORT is at most 65535");
    beamlet::run(move || {
        demo(port, secs, ci).map_err(|e| {
            eprintln!("observer: {e}");
            e
        })
    })
}
