//! An event log as a GenEvent manager (the Elixir book's GenEvent): one process
//! runs every event through its handlers.
//!
//! 1. Start a manager of log events with a console handler (prints) and a counting
//!    handler.
//! 2. Notify a few events (asynchronous), then `sync_notify` one (returns once every
//!    handler has run it), and call the counter for its totals.
//! 3. Swap the console for a terse one that carries on the line numbering, then
//!    delete the counter and get its final totals back from its `terminate`.
//! 4. Add a flaky handler that panics on errors: it is removed, the manager and the
//!    other handlers carry on, and the one who added it (with `add_sup_handler`) is
//!    told why.
//!
//! ```text
//! cargo run --release --example event_log
//! ```

mod common;

use beamlet::otp::gen_event::{
    self, CallHandled, EventHandler, EventManager, Handled, HandlerExit, HandlerId, Init, Previous,
    Removal, SwapTo,
};
use beamlet::receive;
use std::process::ExitCode;

/// A log event.
#[derive(Debug, Clone)]
enum Log {
    Info(String),
    Error(String),
}

/// Prints every event, numbering the lines.
struct Console {
    lines: u64,
    terse: bool,
}

impl EventHandler<Log> for Console {
    /// (lines printed so far, terse)
    type Args = (u64, bool);
    type Call = ();
    type Reply = ();
    type DeleteArgs = ();
    /// Lines printed: handed to a console swapped in.
    type Terminated = u64;

    fn init((lines, terse): (u64, bool)) -> Init<Self> {
        Init::Ok(Console { lines, terse })
    }

    fn handle_event(&mut self, event: &Log) -> Handled<Log, Self> {
        self.lines += 1;
        match (self.terse, event) {
            (false, Log::Info(s)) => println!("  [console] {:>3} info:  {s}", self.lines),
            (false, Log::Error(s)) => println!("  [console] {:>3} ERROR: {s}", self.lines),
            (true, Log::Info(s) | Log::Error(s)) => println!("  [terse] {} {s}", self.lines),
        }
        Handled::Ok
    }

    fn terminate(self, why: Removal<()>) -> u64 {
        println!("  [console] terminate: {why:?} after {} lines", self.lines);
        self.lines
    }
}

/// Counts infos and errors.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    infos: u64,
    errors: u64,
}

impl EventHandler<Log> for Counts {
    type Args = ();
    type Call = ();
    type Reply = Counts;
    type DeleteArgs = ();
    type Terminated = Counts;

    fn init(_: ()) -> Init<Self> {
        Init::Ok(Counts::default())
    }

    fn handle_event(&mut self, event: &Log) -> Handled<Log, Self> {
        match event {
            Log::Info(_) => self.infos += 1,
            Log::Error(_) => self.errors += 1,
        }
        Handled::Ok
    }

    fn handle_call(&mut self, _: ()) -> CallHandled<Log, Self> {
        CallHandled::Reply(*self)
    }

    fn terminate(self, _: Removal<()>) -> Counts {
        self
    }
}

/// Forwards events somewhere unreliable: panics on the first error.
struct Flaky;

impl EventHandler<Log> for Flaky {
    type Args = ();
    type Call = ();
    type Reply = ();
    type DeleteArgs = ();
    type Terminated = ();

    fn init(_: ()) -> Init<Self> {
        Init::Ok(Flaky)
    }

    fn handle_event(&mut self, event: &Log) -> Handled<Log, Self> {
        if let Log::Error(s) = event {
            panic!("flaky handler cannot forward {s:?}");
        }
        Handled::Ok
    }

    fn terminate(self, why: Removal<()>) {
        println!("  [flaky] terminate: {why:?}");
    }
}

fn info(log: EventManager<Log>, s: &str) {
    gen_event::notify(log, Log::Info(s.to_owned()));
}

fn error(log: EventManager<Log>, s: &str) {
    gen_event::notify(log, Log::Error(s.to_owned()));
}

fn main() -> ExitCode {
    common::no_args(
        "event_log",
        "event_log: an event log as a GenEvent manager with console and counting handlers.",
    );
    beamlet::run(|| {
        let console = HandlerId::<Console>::new();
        let counts = HandlerId::<Counts>::new();

        println!("1. start the manager; add a console and a counter");
        let log = gen_event::start_link_named::<Log>("log").expect("manager");
        gen_event::add_handler(log, &console, (0, false)).expect("console");
        gen_event::add_handler(log, &counts, ()).expect("counts");
        println!(
            "   handlers (most recent first): {:?}",
            gen_event::which_handlers(log).unwrap()
        );

        println!("2. notify three events, sync_notify a fourth, call the counter");
        info(log, "server started");
        info(log, "user alice logged in");
        error(log, "disk 91% full");
        gen_event::sync_notify(log, Log::Info("backup done".into())).unwrap();
        let c = gen_event::call(log, &counts, ()).unwrap();
        println!("   counter says: {} infos, {} errors", c.infos, c.errors);

        println!("3. swap the console for a terse one (keeps the numbering), delete the counter");
        let terse = HandlerId::<Console>::instance("terse");
        let to = SwapTo::new(&terse, |old: Previous<u64>| {
            (old.terminated().unwrap_or(0), true)
        });
        gen_event::swap_handler(log, &console, (), to).unwrap();
        info(log, "user bob logged in");
        let c = gen_event::delete_handler(log, &counts, ()).unwrap();
        println!("   the counter's terminate returned {c:?}");
        println!("   handlers: {:?}", gen_event::which_handlers(log).unwrap());

        println!("4. add a flaky handler (supervised by us) and log an error");
        gen_event::add_sup_handler(log, &HandlerId::<Flaky>::new(), ()).unwrap();
        error(log, "payment service unreachable");
        let exit = receive::<HandlerExit>();
        println!(
            "   we are told: {} removed: {:?}",
            exit.handler, exit.reason
        );
        info(log, "still logging");
        gen_event::sync_notify(log, Log::Info("and the manager is fine".into())).unwrap();
        println!("   handlers: {:?}", gen_event::which_handlers(log).unwrap());

        println!("5. stop the manager: every handler's terminate runs");
        gen_event::stop(
            log,
            beamlet::ExitReason::Normal,
            std::time::Duration::from_secs(5),
        )
        .unwrap();
    })
}
