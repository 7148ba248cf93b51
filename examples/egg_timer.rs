//! An egg timer (Programmer Passport's EggTimer): named alarms kept in a GenServer,
//! each fired by `send_after` and handled in `handle_info`.
//!
//! 1. Schedule alarms with a cast: the server arms a `send_after` to itself.
//! 2. Ask the status with a call: name, duration, time remaining.
//! 3. Cancel an alarm with a call; cancelling an unknown one is an error value,
//!    not a crash.
//! 4. Let the others ring: each `Ring` message reaches `handle_info`, which runs
//!    the alarm's function.
//! 5. Ask the server to stop with a reason (the book's `:we_broke_something`) and
//!    watch its supervisor start a fresh one.
//!
//! `BEAMLET_CI=1` shortens the timers.
//!
//! ```text
//! cargo run --release --example egg_timer
//! ```

mod common;

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use beamlet::otp::gen_server::{
    self, CallReply, Caller, GenServer, Init, NoReply, ServerRef, StartOptions,
};
use beamlet::otp::supervisor::{self, ChildSpec, SupervisorFlags};
use beamlet::{
    ExitReason, Message, TimerRef, cancel_timer, receive, self_pid, send, send_after, sleep,
};

/// What an alarm does when it rings.
type Action = Box<dyn Fn() + Send>;

/// One alarm.
struct Alarm {
    duration: Duration,
    set_at: Instant,
    timer: TimerRef,
    action: Action,
}

/// The server: alarms by name.
struct EggTimer {
    alarms: BTreeMap<String, Alarm>,
}

/// The message `send_after` delivers when an alarm is due.
struct Ring(String);

/// Casts.
enum Cast {
    Schedule(String, Duration, Action),
    Stop,
}

/// Calls.
#[derive(Debug)]
enum Call {
    Status,
    Cancel(String),
}

/// Answers to calls.
#[derive(Debug)]
enum Reply {
    /// Name, duration, time left.
    Status(Vec<(String, Duration, Duration)>),
    Cancelled(Result<Duration, String>),
}

impl GenServer for EggTimer {
    type Args = ();
    type Call = Call;
    type Reply = Reply;
    type Cast = Cast;
    type Continue = ();

    fn init(_: ()) -> Init<Self, ()> {
        println!("  [timer] init: no alarms");
        Init::Ok(EggTimer {
            alarms: BTreeMap::new(),
        })
    }

    fn handle_cast(&mut self, cast: Cast) -> NoReply<()> {
        match cast {
            Cast::Schedule(name, duration, action) => {
                let timer = send_after(duration, self_pid(), Ring(name.clone()));
                let set_at = Instant::now();
                let alarm = Alarm {
                    duration,
                    set_at,
                    timer,
                    action,
                };
                self.alarms.insert(name, alarm);
                NoReply::Ok
            }
            Cast::Stop => NoReply::Stop(ExitReason::custom("we_broke_something")),
        }
    }

    fn handle_call(&mut self, call: Call, _: Caller<Reply>) -> CallReply<Reply, ()> {
        CallReply::Reply(match call {
            Call::Status => Reply::Status(self.status()),
            Call::Cancel(name) => Reply::Cancelled(self.cancel(&name)),
        })
    }

    fn handle_info(&mut self, msg: Message) -> NoReply<()> {
        if let Ok(Ring(name)) = msg.downcast::<Ring>() {
            if let Some(alarm) = self.alarms.remove(&name) {
                (alarm.action)();
            }
        }
        NoReply::Ok
    }
}

impl EggTimer {
    fn status(&self) -> Vec<(String, Duration, Duration)> {
        let left = |a: &Alarm| a.duration.saturating_sub(a.set_at.elapsed());
        let row = |(n, a): (&String, &Alarm)| (n.clone(), a.duration, left(a));
        self.alarms.iter().map(row).collect()
    }

    fn cancel(&mut self, name: &str) -> Result<Duration, String> {
        let alarm = self
            .alarms
            .remove(name)
            .ok_or_else(|| format!("no alarm named {name:?}"))?;
        // A timer that already fired has its Ring queued: handle_info then finds no
        // alarm and ignores it.
        Ok(cancel_timer(&alarm.timer).unwrap_or_default())
    }
}

fn schedule(t: ServerRef<EggTimer>, name: &str, after: Duration, action: Action) {
    gen_server::cast(t, Cast::Schedule(name.into(), after, action));
}

fn ms(n: u64) -> Duration {
    let ci = std::env::var("BEAMLET_CI").is_ok_and(|v| v == "1");
    Duration::from_millis(if ci { n / 10 } else { n })
}

fn main() -> ExitCode {
    common::no_args(
        "egg_timer",
        "egg_timer: named alarms kept in a GenServer, each fired by send_after.\n\n\
         Environment: BEAMLET_CI=1 shortens the timers.",
    );
    beamlet::run(|| {
        let me = self_pid();
        println!("1. a supervisor starts the egg timer, registered as \"eggs\"");
        let spec = ChildSpec::worker("eggs", || {
            gen_server::start_link_with::<EggTimer>((), StartOptions::new().name("eggs"))
        });
        supervisor::start_link(vec![spec], SupervisorFlags::default()).expect("supervisor");
        let t = ServerRef::<EggTimer>::whereis("eggs").expect("registered");

        println!("2. schedule three alarms (casts)");
        let ring = move |what: &'static str| -> Action {
            Box::new(move || {
                println!("   ** {what}! **");
                let _ = send(me, what);
            })
        };
        schedule(
            t,
            "soft boiled",
            ms(400),
            ring("soft boiled eggs are ready"),
        );
        schedule(
            t,
            "hard boiled",
            ms(800),
            ring("hard boiled eggs are ready"),
        );
        schedule(t, "tea", ms(600), ring("the tea is ready"));

        println!("3. status (a call)");
        if let Ok(Reply::Status(rows)) = gen_server::call(t, Call::Status) {
            for (name, duration, left) in rows {
                println!("   {name:<12} {duration:>8.2?} set, {left:>8.2?} left");
            }
        }

        println!("4. cancel the tea, then an alarm that does not exist");
        for name in ["tea", "coffee"] {
            if let Ok(Reply::Cancelled(r)) = gen_server::call(t, Call::Cancel(name.into())) {
                println!("   cancel({name:?}) = {r:?}");
            }
        }

        println!("5. wait for the other two to ring (handle_info)");
        for _ in 0..2 {
            let what = receive::<&str>();
            println!("   the test process heard: {what}");
        }

        println!("6. stop it with a reason; the supervisor starts a new one");
        gen_server::cast(t, Cast::Stop);
        let fresh = loop {
            match ServerRef::<EggTimer>::whereis("eggs") {
                Some(new) if new != t => break new,
                _ => sleep(Duration::from_millis(1)),
            }
        };
        if let Ok(Reply::Status(rows)) = gen_server::call(fresh, Call::Status) {
            println!("   the new timer has {} alarms", rows.len());
        }
        println!("done");
    })
}
