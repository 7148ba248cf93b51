//! SuperDuper (Programmer Passport): character servers under supervisors.
//!
//! 1. Under each strategy (one_for_one, one_for_all, rest_for_one) a supervisor
//!    starts three characters; superman is fed kryptonite (crashes) and we see who
//!    was restarted.
//! 2. A DynamicSupervisor adds characters at run time, restarts one that dies,
//!    and removes one; these characters are found through a Registry.
//!
//! Each character registers its name, so it is called by name, before and after a
//! restart.
//!
//! ```text
//! cargo run --release --example super_duper
//! ```

mod common;

use std::process::ExitCode;
use std::time::Duration;

use beamlet::otp::dynamic_supervisor::{self, DynamicOptions};
use beamlet::otp::gen_server::{
    self, CallReply, Caller, GenServer, Init, NoReply, ServerRef, StartOptions,
};
use beamlet::otp::registry::{Keys, Registry};
use beamlet::otp::supervisor::{self, ChildSpec, Strategy, SupervisorFlags};
use beamlet::{ExitReason, Pid, sleep};

/// A character: a name and what it says.
struct Character {
    says: String,
}

/// The one call.
#[derive(Debug)]
struct Say;

/// The one cast: crash.
#[derive(Debug)]
struct Die;

impl GenServer for Character {
    type Args = (String, String);
    type Call = Say;
    type Reply = String;
    type Cast = Die;
    type Continue = ();

    fn init((name, says): (String, String)) -> Init<Self, ()> {
        println!("     Starting {name}");
        Init::Ok(Character { says })
    }

    fn handle_call(&mut self, _: Say, _: Caller<String>) -> CallReply<String, ()> {
        CallReply::Reply(self.says.clone())
    }

    fn handle_cast(&mut self, _: Die) -> NoReply<()> {
        panic!("Boom")
    }
}

/// The three static characters and their lines.
const CAST: [(&str, &str); 3] = [
    (
        "superdave",
        "Next time you shoot a bullet at a metal object, watch the ricochet.",
    ),
    (
        "superman",
        "It doesn't take X-Ray Vision to see you are up to no good.",
    ),
    ("supermario", "Hoo hoo! Just what I needed!"),
];

/// A child spec for a character registered under its name.
fn character(name: &str, says: &str) -> ChildSpec {
    let (name, says) = (name.to_owned(), says.to_owned());
    ChildSpec::worker(name.clone(), move || {
        let opts = StartOptions::new().name(name.clone());
        gen_server::start_link_with::<Character>((name.clone(), says.clone()), opts)
    })
}

fn say(name: &str) -> String {
    gen_server::call_named::<Character>(name, Say).unwrap_or_else(|e| format!("({e})"))
}

fn whereis(name: &str) -> Option<Pid> {
    ServerRef::<Character>::whereis(name).map(|s| s.pid())
}

/// Crashes `name` and waits until it runs again under a new pid.
fn die(name: &str) {
    let old = whereis(name);
    gen_server::cast_named::<Character>(name, Die);
    while whereis(name).is_none() || whereis(name) == old {
        sleep(Duration::from_millis(1));
    }
}

fn pids() -> Vec<Option<Pid>> {
    CAST.iter().map(|(n, _)| whereis(n)).collect()
}

fn under(strategy: Strategy) {
    println!("-- {strategy:?}: start three characters");
    let children = CAST.iter().map(|(n, s)| character(n, s)).collect();
    let sup =
        supervisor::start_link(children, SupervisorFlags::strategy(strategy)).expect("supervisor");
    println!("   superman says: {}", say("superman"));
    let before = pids();
    println!("   feed superman kryptonite (he crashes: \"Boom\")");
    die("superman");
    // The supervisor answers once it has finished the whole restart.
    supervisor::count_children(sup).expect("counts");
    let after = pids();
    for ((name, _), (b, a)) in CAST.iter().zip(before.iter().zip(&after)) {
        let what = if b == a { "kept" } else { "restarted" };
        println!("   {name:<10} {what}");
    }
    println!("   superman says: {}", say("superman"));
    gen_server::stop(sup, ExitReason::Normal, Duration::from_secs(5)).expect("stop");
}

/// A child spec for a character registered in the `characters` registry (a "via"
/// name) instead of the process-wide name table.
fn registered_character(reg: &Registry<String, ()>, name: &str, says: &str) -> ChildSpec {
    let (name, says, reg) = (name.to_owned(), says.to_owned(), reg.clone());
    ChildSpec::worker(name.clone(), move || {
        let opts = StartOptions::new().name(reg.via(name.clone(), ()));
        gen_server::start_link_with::<Character>((name.clone(), says.clone()), opts)
    })
}

/// Asks the character registered under `name` in `reg` what it says.
fn say_via(reg: &Registry<String, ()>, name: &str) -> String {
    gen_server::call_named::<Character>(reg.via(name.to_owned(), ()), Say)
        .unwrap_or_else(|e| format!("({e})"))
}

fn dynamic() {
    println!("-- DynamicSupervisor: characters added at run time, found through a Registry");
    let reg = Registry::<String, ()>::start_link("characters", Keys::Unique, 2).expect("registry");
    let sup = dynamic_supervisor::start_link(DynamicOptions::default()).expect("dynamic");
    let yoshi = registered_character(&reg, "yoshi", "Yoshi do! Yoshi do!");
    let yoshi = dynamic_supervisor::start_child(sup, yoshi).expect("yoshi");
    let nova = registered_character(&reg, "supernova", "Expanding at light speed");
    dynamic_supervisor::start_child(sup, nova).expect("supernova");
    println!("   registry: yoshi is {:?}", reg.lookup("yoshi"));
    println!("   yoshi says: {}", say_via(&reg, "yoshi"));
    println!("   supernova says: {}", say_via(&reg, "supernova"));
    println!("   supernova dies, and is back:");
    let old = reg.lookup("supernova");
    gen_server::cast_named::<Character>(reg.via("supernova".to_owned(), ()), Die);
    while reg.lookup("supernova").is_empty() || reg.lookup("supernova") == old {
        sleep(Duration::from_millis(1));
    }
    println!("   supernova says: {}", say_via(&reg, "supernova"));
    println!("   remove yoshi");
    dynamic_supervisor::terminate_child(sup, yoshi.expect("a pid")).expect("terminate");
    while !reg.lookup("yoshi").is_empty() {
        sleep(Duration::from_millis(1));
    }
    println!("   registry: yoshi is {:?}", reg.lookup("yoshi"));
    println!("   yoshi says: {}", say_via(&reg, "yoshi"));
    let counts = dynamic_supervisor::count_children(sup).expect("counts");
    println!("   {} character(s) left", counts.active);
}

fn main() -> ExitCode {
    common::no_args(
        "super_duper",
        "super_duper: character servers under each supervisor strategy, then a DynamicSupervisor\n\
         adding and removing them.",
    );
    beamlet::run(|| {
        for strategy in [
            Strategy::OneForOne,
            Strategy::OneForAll,
            Strategy::RestForOne,
        ] {
            under(strategy);
        }
        dynamic();
        println!("done");
    })
}
