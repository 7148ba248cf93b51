//! Two applications, `store` depending on `logger`, each a supervision tree.
//!
//! 1. Load both and start `store`: `logger` starts first, as its dependency.
//! 2. List the running applications (`which_applications`, newest first) and use
//!    the store, which writes through the logger.
//! 3. Stop `store`, then `logger`: each tree stops its children in reverse start
//!    order, between the application's `prep_stop` and `stop` callbacks.
//! 4. Boot the same two plus a `flaky` one with `run`, all permanent: when
//!    `flaky`'s tree crashes, the others are stopped (newest first) and `run`
//!    returns why, having shut the runtime down.
//!
//! ```text
//! cargo run --release --example app_tree
//! ```

mod common;

use std::collections::HashMap;
use std::time::Duration;

use beamlet::otp::application::{self, Application, RestartType};
use beamlet::otp::gen_server::{self, CallReply, Caller, GenServer, Init, ServerRef, StartOptions};
use beamlet::otp::supervisor::{self, ChildSpec, SupervisorFlags};
use beamlet::{ExitReason, Pid, Runtime, receive, send_after, spawn_link};

/// The logger's writer: prints the lines it is called with (a call, not a cast,
/// so that the output comes in order).
struct Writer;

impl GenServer for Writer {
    type Args = ();
    type Call = String;
    type Reply = ();
    type Cast = ();
    type Continue = ();
    const TRAP_EXIT: bool = true;

    fn init(_: ()) -> Init<Self, ()> {
        println!("    logger/writer started");
        Init::Ok(Writer)
    }

    fn handle_call(&mut self, line: String, _: Caller<()>) -> CallReply<(), ()> {
        println!("    [log] {line}");
        CallReply::Reply(())
    }

    fn terminate(&mut self, _: &ExitReason) {
        println!("    logger/writer terminates");
    }
}

fn log(line: String) {
    // Losing a line when the logger is down is acceptable here.
    let _ = gen_server::call_named::<Writer>("writer", line);
}

/// A worker that does nothing but say when it starts and stops.
struct Quiet(&'static str);

impl GenServer for Quiet {
    type Args = &'static str;
    type Call = ();
    type Reply = ();
    type Cast = ();
    type Continue = ();
    const TRAP_EXIT: bool = true;

    fn init(name: &'static str) -> Init<Self, ()> {
        println!("    {name} started");
        Init::Ok(Quiet(name))
    }

    fn terminate(&mut self, _: &ExitReason) {
        println!("    {} terminates", self.0);
    }
}

/// The store's table: puts and gets, each put written to the log.
struct Table(HashMap<String, String>);

/// A table request.
enum Op {
    Put(String, String),
    Get(String),
}

impl GenServer for Table {
    type Args = ();
    type Call = Op;
    type Reply = Option<String>;
    type Cast = ();
    type Continue = ();
    const TRAP_EXIT: bool = true;

    fn init(_: ()) -> Init<Self, ()> {
        println!("    store/table started");
        Init::Ok(Table(HashMap::new()))
    }

    fn handle_call(&mut self, op: Op, _: Caller<Option<String>>) -> CallReply<Option<String>, ()> {
        match op {
            Op::Put(k, v) => {
                log(format!("put {k} = {v}"));
                CallReply::Reply(self.0.insert(k, v))
            }
            Op::Get(k) => CallReply::Reply(self.0.get(&k).cloned()),
        }
    }

    fn terminate(&mut self, _: &ExitReason) {
        println!("    store/table terminates ({} keys)", self.0.len());
    }
}

fn quiet(name: &'static str) -> ChildSpec {
    ChildSpec::worker(name, move || gen_server::start_link::<Quiet>(name))
}

fn logger() -> Application {
    let writer = ChildSpec::worker("writer", || {
        gen_server::start_link_with::<Writer>((), StartOptions::new().name("writer"))
    });
    let children = vec![quiet("logger/formatter"), writer];
    Application::new("logger", move || {
        supervisor::start_link(children.clone(), SupervisorFlags::default())
    })
    .description("writes log lines")
    .version("1.0.0")
    .on_stop(|| println!("  logger: stop callback"))
}

fn store() -> Application {
    let table = ChildSpec::worker("table", || {
        gen_server::start_link_with::<Table>((), StartOptions::new().name("table"))
    });
    let children = vec![table, quiet("store/cache"), quiet("store/sweeper")];
    Application::new("store", move || {
        supervisor::start_link(children.clone(), SupervisorFlags::default())
    })
    .description("a key-value store")
    .version("0.2.0")
    .depends_on(["logger"])
    .on_prep_stop(|| println!("  store: prep_stop callback"))
    .on_stop(|| println!("  store: stop callback"))
}

/// An application whose only process crashes 100 ms after it starts.
fn flaky() -> Application {
    Application::new("flaky", || -> Result<Pid, beamlet::SpawnError> {
        println!("    flaky started");
        spawn_link(|| {
            send_after(Duration::from_millis(100), beamlet::self_pid(), ());
            receive::<()>();
            panic!("flaky gave up");
        })
    })
    .description("crashes soon")
    .version("0.0.1")
    .depends_on(["store"])
}

fn start_use_stop() {
    let rt = Runtime::builder().build().expect("runtime");
    rt.block_on(|| {
        application::load(logger()).unwrap();
        application::load(store()).unwrap();
        println!("start store:");
        let started = application::start("store", RestartType::Temporary).unwrap();
        println!("  started, in order: {started:?}");
        println!("which_applications:");
        for app in application::which_applications().unwrap() {
            println!("  {app}");
        }
        let table = ServerRef::<Table>::whereis("table").expect("table runs");
        gen_server::call(table, Op::Put("answer".into(), "42".into())).unwrap();
        let answer = gen_server::call(table, Op::Get("answer".into())).unwrap();
        println!("  store says answer = {}", answer.unwrap_or_default());
        println!("stop store (children in reverse order):");
        application::stop("store").unwrap();
        println!("stop logger:");
        application::stop("logger").unwrap();
        println!(
            "  running now: {}",
            application::which_applications().unwrap().len()
        );
    })
    .expect("root process");
    let _ = rt.shutdown();
}

fn main() {
    common::no_args(
        "app_tree",
        "app_tree: two applications, `store` depending on `logger`, each a supervision tree:\n\
         started in dependency order, listed, stopped, then booted as permanent applications.",
    );
    start_use_stop();
    println!("run logger, store and flaky as permanent applications:");
    let rt = Runtime::builder().build().expect("runtime");
    let apps = vec![logger(), store(), flaky()];
    match application::run(rt, apps, RestartType::Permanent) {
        Ok(halt) => println!("run returned: {halt}"),
        Err(e) => println!("run failed: {e}"),
    }
}
