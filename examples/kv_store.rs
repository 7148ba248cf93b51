//! A key-value store as a GenServer (the cookbook's KVStore).
//!
//! 1. Start the store linked and registered as `"kv"`.
//! 2. Write with casts (`put`, `delete`: fire and forget), read with calls (`get`,
//!    `keys`), by handle and by name. Each read carries the `Caller` of its own
//!    reply type (`gen_server::call_with`), so no reply enum has to be unpacked.
//! 3. Look at it from outside with `sys` (state, statistics), then stop it.
//!
//! ```text
//! cargo run --release --example kv_store
//! ```

mod common;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::process::ExitCode;
use std::time::Duration;

use beamlet::ExitReason;
use beamlet::otp::gen_server::{
    self, CallReply, Caller, GenServer, Init, NoReply, ServerRef, StartOptions, reply,
};
use beamlet::otp::sys;

/// The store: a map from keys to values.
#[derive(Debug, Clone, Default)]
struct KvStore {
    map: BTreeMap<String, String>,
}

/// Reads (calls), each with the reply address of its own answer's type.
#[derive(Debug)]
enum Read {
    Get(String, Caller<Option<String>>),
    Keys(Caller<Vec<String>>),
}

/// Writes (casts).
#[derive(Debug)]
enum Write {
    Put(String, String),
    Delete(String),
}

impl GenServer for KvStore {
    type Args = ();
    type Call = Read;
    // Each read replies through its own `Caller`: no common reply type.
    type Reply = Infallible;
    type Cast = Write;
    type Continue = Infallible;

    fn init(_: ()) -> Init<Self, Infallible> {
        println!("  [kv] init: an empty store");
        Init::Ok(KvStore::default())
    }

    fn handle_call(
        &mut self,
        read: Read,
        _: Caller<Infallible>,
    ) -> CallReply<Infallible, Infallible> {
        match read {
            Read::Get(k, caller) => reply(caller, self.map.get(&k).cloned()),
            Read::Keys(caller) => reply(caller, self.map.keys().cloned().collect()),
        }
        CallReply::NoReply
    }

    fn handle_cast(&mut self, write: Write) -> NoReply<Infallible> {
        match write {
            Write::Put(k, v) => self.map.insert(k, v),
            Write::Delete(k) => self.map.remove(&k),
        };
        NoReply::Ok
    }

    fn terminate(&mut self, reason: &ExitReason) {
        println!("  [kv] terminate({reason}) with {} keys", self.map.len());
    }
}

/// The client API: functions over the server's handle.
fn put(kv: ServerRef<KvStore>, k: &str, v: &str) {
    gen_server::cast(kv, Write::Put(k.into(), v.into()));
}

fn delete(kv: ServerRef<KvStore>, k: &str) {
    gen_server::cast(kv, Write::Delete(k.into()));
}

fn get(kv: ServerRef<KvStore>, k: &str) -> Option<String> {
    gen_server::call_with(kv, |caller| Read::Get(k.into(), caller)).expect("get")
}

fn main() -> ExitCode {
    common::no_args(
        "kv_store",
        "kv_store: a key-value store as a GenServer (calls and casts).",
    );
    beamlet::run(|| {
        println!("1. start the store, registered as \"kv\"");
        let opts = StartOptions::new().name("kv");
        let kv = gen_server::start_link_with::<KvStore>((), opts).expect("start");

        println!("2. put three keys (casts), then read them back (calls)");
        put(kv, "language", "elixir");
        put(kv, "runtime", "beam");
        put(kv, "port", "beamlet");
        for k in ["language", "runtime", "port", "missing"] {
            println!("   get({k:?}) = {:?}", get(kv, k));
        }

        println!("3. overwrite and delete");
        put(kv, "language", "rust");
        delete(kv, "runtime");
        println!("   get(\"language\") = {:?}", get(kv, "language"));
        println!("   get(\"runtime\") = {:?}", get(kv, "runtime"));

        println!("4. call it by its registered name");
        let by_name = ServerRef::<KvStore>::whereis("kv").expect("registered");
        let keys = gen_server::call_with(by_name, Read::Keys).expect("keys");
        println!("   keys = {keys:?}");

        println!("5. look inside with sys");
        let state = sys::get_state(kv).expect("state");
        println!("   state = {:?}", state.map);
        let stats = sys::statistics(kv).expect("stats");
        println!("   messages handled = {}", stats.messages_handled);

        println!("6. stop it");
        gen_server::stop(kv, ExitReason::Normal, Duration::from_secs(5)).expect("stop");
        let after = gen_server::call_with(kv, Read::Keys);
        println!("   a call after the stop: {after:?}");
        println!("done");
    })
}
