//! Registry: Elixir's `Registry` semantics, one rule per test.

use std::time::{Duration, Instant};

use beamlet::otp::gen_server::{
    self, CallError, CallReply, Caller, GenServer, Init, NoReply, StartError, StartOptions,
};
use beamlet::otp::registry::{Keys, Registry, RegistryError};
use beamlet::otp::sys;
use beamlet::{
    Down, ExitReason, Pid, Runtime, exit_pid, monitor, receive, receive_timeout, self_pid, send,
    spawn, spawn_monitor,
};

const WAIT: Duration = Duration::from_secs(10);

fn rt() -> Runtime {
    Runtime::builder().schedulers(2).build().unwrap()
}

type Names = Registry<String, u32>;

/// Spawns a process that registers `keys` (with their values) in `reg`, reports
/// each result to the caller, then waits for a `()` and exits.
fn holder(reg: &Names, keys: Vec<(&'static str, u32)>) -> Pid {
    let (reg, me) = (reg.clone(), self_pid());
    spawn(move || {
        for (k, v) in keys {
            send(me, reg.register(k.to_owned(), v)).unwrap();
        }
        receive::<()>();
    })
    .unwrap()
}

fn registered() -> Result<(), RegistryError> {
    receive_timeout(WAIT).expect("a registration result")
}

/// Ends `pid` and waits for its `Down`.
fn kill(pid: Pid) {
    let m = monitor(pid);
    exit_pid(pid, ExitReason::Kill);
    let d = receive_timeout::<Down>(WAIT).expect("a Down");
    assert_eq!(d.monitor, m);
}

/// Waits until `reg` holds `n` entries. Readers never see a dead process's entries,
/// but the count includes them until the registry process has handled the `Down`
/// (which comes after the `Watch` it may not have handled yet), so it is eventual.
fn count_becomes<K, V>(reg: &Registry<K, V>, n: usize) -> bool
where
    K: Eq + std::hash::Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    let deadline = Instant::now() + WAIT;
    while reg.count() != n && Instant::now() < deadline {
        beamlet::sleep(Duration::from_millis(1));
    }
    reg.count() == n
}

#[test]
fn unique_keys_have_one_holder_visible_from_every_process() {
    let rt = rt();
    rt.block_on(|| {
        let reg = Names::start_link("unique", Keys::Unique, 4).unwrap();
        let a = holder(&reg, vec![("a", 1), ("b", 2)]);
        assert_eq!((registered(), registered()), (Ok(()), Ok(())));
        // Another process sees the entries as soon as `register` returned.
        let (reg2, me) = (reg.clone(), self_pid());
        spawn(move || send(me, (reg2.lookup("a"), reg2.keys(a))).unwrap()).unwrap();
        let (found, keys) = receive::<(Vec<(Pid, u32)>, Vec<String>)>();
        assert_eq!(found, vec![(a, 1)]);
        assert_eq!(keys, ["a", "b"]);
        // The key is taken.
        assert_eq!(
            reg.register("a".into(), 9),
            Err(RegistryError::AlreadyRegistered(a))
        );
        assert_eq!(reg.count(), 2);
        reg.register("c".into(), 3).unwrap();
        assert_eq!(reg.update_value("c", |v| v * 10), Some((30, 3)));
        assert_eq!(reg.values("c", self_pid()), [30]);
        reg.unregister("c");
        assert!(reg.lookup("c").is_empty());
        send(a, ()).unwrap();
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn duplicate_keys_hold_every_registration() {
    let rt = rt();
    rt.block_on(|| {
        let reg = Names::start_link("dup", Keys::Duplicate, 2).unwrap();
        let a = holder(&reg, vec![("t", 1), ("t", 2)]);
        let b = holder(&reg, vec![("t", 3)]);
        for _ in 0..3 {
            assert_eq!(registered(), Ok(()));
        }
        let mut found = reg.lookup("t");
        found.sort_by_key(|(_, v)| *v);
        assert_eq!(found, [(a, 1), (a, 2), (b, 3)]);
        assert_eq!(reg.values("t", a), [1, 2]);
        assert_eq!(reg.keys(a), ["t", "t"]);
        assert_eq!(reg.count(), 3);
        assert_eq!(reg.update_value("t", |v| v + 1), None);
        send(a, ()).unwrap();
        send(b, ()).unwrap();
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn dispatch_reaches_every_process_under_a_key() {
    let rt = rt();
    rt.block_on(|| {
        let reg = Names::start_link("pubsub", Keys::Duplicate, 2).unwrap();
        let me = self_pid();
        let subscribers: Vec<Pid> = (0..50u32)
            .map(|i| {
                let reg = reg.clone();
                spawn(move || {
                    reg.register("news".into(), i).unwrap();
                    send(me, ()).unwrap();
                    let (n, from): (u64, Pid) = receive();
                    send(from, (self_pid(), n + u64::from(i))).unwrap();
                })
                .unwrap()
            })
            .collect();
        for _ in 0..50 {
            receive_timeout::<()>(WAIT).unwrap();
        }
        let reached = reg.dispatch("news", |subs| {
            for (pid, _) in subs {
                send(*pid, (1000u64, me)).unwrap();
            }
        });
        assert_eq!(reached, 50);
        let mut answers: Vec<(Pid, u64)> = (0..50)
            .map(|_| receive_timeout(WAIT).expect("an answer"))
            .collect();
        answers.sort();
        let mut expected: Vec<(Pid, u64)> = subscribers
            .iter()
            .zip(0..)
            .map(|(p, i)| (*p, 1000 + i))
            .collect();
        expected.sort();
        assert_eq!(answers, expected);
        // Nobody under the key: `f` is not called.
        assert_eq!(reg.dispatch("sports", |_| panic!("called")), 0);
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn entries_vanish_when_their_process_dies() {
    let rt = rt();
    rt.block_on(|| {
        for keys in [Keys::Unique, Keys::Duplicate] {
            let reg = Names::start_link(format!("{keys:?}"), keys, 4).unwrap();
            let a = holder(&reg, vec![("x", 1), ("y", 2)]);
            // `a` holds both keys before `b` tries "y" (in a unique registry `b`
            // must then lose it, and hold nothing).
            registered().unwrap();
            registered().unwrap();
            let b = holder(&reg, vec![("y", 3)]);
            assert_eq!(registered().is_ok(), keys == Keys::Duplicate);
            kill(a);
            // Once its Down has been seen, its entries are gone for readers.
            assert!(reg.lookup("x").is_empty());
            assert!(reg.keys(a).is_empty());
            assert!(reg.lookup("y").iter().all(|(p, _)| *p != a));
            // And the registry process removes them.
            assert!(count_becomes(&reg, usize::from(keys == Keys::Duplicate)));
            kill(b);
            assert!(count_becomes(&reg, 0));
        }
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_key_taken_over_after_a_death_survives_the_old_holders_down() {
    let rt = rt();
    rt.block_on(|| {
        let reg = Names::start_link("takeover", Keys::Unique, 1).unwrap();
        let old = holder(&reg, vec![("k", 1)]);
        assert_eq!(registered(), Ok(()));
        kill(old);
        // The registry may not have handled the Down yet: the key is free anyway.
        let new = holder(&reg, vec![("k", 2)]);
        assert_eq!(registered(), Ok(()));
        // Once the old holder's Down has been handled, the new entry is still there.
        sys::statistics(reg.pid()).unwrap();
        sys::statistics(reg.pid()).unwrap();
        assert_eq!(reg.lookup("k"), [(new, 2)]);
        assert_eq!(reg.count(), 1);
        send(new, ()).unwrap();
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_process_that_unregistered_and_registered_again_is_still_cleaned_up() {
    let rt = rt();
    rt.block_on(|| {
        let reg = Names::start_link("again", Keys::Unique, 2).unwrap();
        let me = self_pid();
        let r = reg.clone();
        let pid = spawn(move || {
            for i in 0..100u32 {
                r.register("k".into(), i).unwrap();
                r.unregister("k");
            }
            r.register("k".into(), 7).unwrap();
            send(me, ()).unwrap();
            receive::<()>();
        })
        .unwrap();
        receive_timeout::<()>(WAIT).unwrap();
        assert_eq!(reg.lookup("k"), [(pid, 7)]);
        kill(pid);
        assert!(count_becomes(&reg, 0));
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_thousand_processes_register_concurrently() {
    let rt = rt();
    rt.block_on(|| {
        let unique = Names::start_link("many", Keys::Unique, 2).unwrap();
        let dup = Names::start_link("many-dup", Keys::Duplicate, 2).unwrap();
        let me = self_pid();
        let mut pids = Vec::new();
        for i in 0..1000u32 {
            let (unique, dup) = (unique.clone(), dup.clone());
            pids.push(
                spawn(move || {
                    let mine = unique.register(format!("p{i}"), i);
                    // Ten keys contended by a hundred processes each.
                    let contended = unique.register(format!("c{}", i % 10), i);
                    dup.register("all".into(), i).unwrap();
                    send(me, (self_pid(), mine, contended)).unwrap();
                    receive::<()>();
                })
                .unwrap(),
            );
        }
        let mut winners = 0;
        for _ in 0..1000 {
            let (pid, mine, contended) =
                receive_timeout::<(Pid, Result<(), RegistryError>, Result<(), RegistryError>)>(
                    WAIT,
                )
                .unwrap();
            assert_eq!(mine, Ok(()));
            match contended {
                Ok(()) => winners += 1,
                Err(RegistryError::AlreadyRegistered(p)) => assert_ne!(p, pid),
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(winners, 10);
        for (i, pid) in pids.iter().enumerate() {
            assert_eq!(unique.lookup(format!("p{i}").as_str()), [(*pid, i as u32)]);
        }
        assert_eq!(unique.count(), 1010);
        assert_eq!(dup.lookup("all").len(), 1000);
        let mut watched = Vec::new();
        for &pid in &pids {
            watched.push(monitor(pid));
            send(pid, ()).unwrap();
        }
        for _ in &watched {
            receive_timeout::<Down>(WAIT).unwrap();
        }
        assert!(dup.lookup("all").is_empty());
        assert!(count_becomes(&unique, 0) && count_becomes(&dup, 0));
    })
    .unwrap();
    let _ = rt.shutdown();
}

/// A counter server for the via-name tests.
struct Counter(u64);

impl GenServer for Counter {
    type Args = bool;
    type Call = ();
    type Reply = u64;
    type Cast = u64;
    type Continue = ();

    fn init(ok: bool) -> Init<Self, ()> {
        match ok {
            true => Init::Ok(Counter(0)),
            false => Init::Stop(ExitReason::custom("refused")),
        }
    }

    fn handle_call(&mut self, _: (), _: Caller<u64>) -> CallReply<u64, ()> {
        CallReply::Reply(self.0)
    }

    fn handle_cast(&mut self, n: u64) -> NoReply<()> {
        self.0 += n;
        NoReply::Ok
    }
}

#[test]
fn a_via_named_server_is_started_called_and_its_name_released_on_death() {
    let rt = rt();
    rt.block_on(|| {
        let reg = Registry::<String, ()>::start_link("via", Keys::Unique, 2).unwrap();
        let name = reg.via("counter".to_string(), ());
        let opts = StartOptions::new().name(&name);
        // A failed init leaves the name free.
        let r = gen_server::start_with::<Counter>(false, opts.clone());
        assert!(matches!(r, Err(StartError::Stop(_))));
        assert!(reg.lookup("counter").is_empty());

        let s = gen_server::start_with::<Counter>(true, opts.clone()).unwrap();
        assert_eq!(reg.lookup("counter"), [(s.pid(), ())]);
        gen_server::cast_named::<Counter>(&name, 5);
        assert_eq!(gen_server::call_named::<Counter>(&name, ()), Ok(5));
        let again = gen_server::start_with::<Counter>(true, opts.clone());
        assert_eq!(again.unwrap_err(), StartError::AlreadyStarted(s.pid()));

        kill(s.pid());
        assert_eq!(
            gen_server::call_named::<Counter>(&name, ()),
            Err(CallError::NoProc)
        );
        // The name can be taken again at once.
        let s2 = gen_server::start_with::<Counter>(true, opts).unwrap();
        assert_eq!(gen_server::call_named::<Counter>(&name, ()), Ok(0));
        assert!(count_becomes(&reg, 1));
        assert_eq!(reg.lookup("counter"), [(s2.pid(), ())]);
    })
    .unwrap();
    let _ = rt.shutdown();
}

#[test]
fn a_registry_that_ended_is_empty_and_refuses_registrations() {
    let rt = rt();
    rt.block_on(|| {
        let me = self_pid();
        let (owner, _) = spawn_monitor(move || {
            let reg = Names::start_link("short-lived", Keys::Unique, 1).unwrap();
            reg.register("k".into(), 1).unwrap();
            send(me, reg).unwrap();
            receive::<()>();
        })
        .unwrap();
        let reg = receive_timeout::<Names>(WAIT).unwrap();
        assert_eq!(
            Names::whereis("short-lived").map(|r| r.pid()),
            Some(reg.pid())
        );
        kill(reg.pid());
        let deadline = Instant::now() + WAIT;
        while Names::whereis("short-lived").is_some() && Instant::now() < deadline {
            beamlet::sleep(Duration::from_millis(1));
        }
        assert!(Names::whereis("short-lived").is_none());
        assert!(reg.lookup("k").is_empty());
        assert_eq!(reg.count(), 0);
        assert_eq!(reg.register("j".into(), 2), Err(RegistryError::NotRunning));
        // The registry was linked to its starter, which died with it.
        assert!(receive_timeout::<Down>(WAIT).is_some_and(|d| d.pid == owner));
    })
    .unwrap();
    let _ = rt.shutdown();
}
