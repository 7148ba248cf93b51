//! genserver_call: synchronous calls from many clients to one GenServer.
//!
//! Usage: `genserver_call [C=100] [M=1000000] [SCHEDULERS=0]`. The root starts a
//! counter GenServer, then spawns C client processes that make M calls in total
//! (`M / C` each, the first `M % C` one more), each call adding one and returning
//! the new count. Time runs from the first spawn until every client has finished;
//! then the counter must read M.
//!
//! Key: `calls_per_sec` (M over the elapsed time).
//!
//! Guards against regressions in the call path of `gen_server::call` (mailbox mark,
//! monitor, alias, request, selective receive of the reply, demonitor, unalias) and
//! in the server loop (receive any, downcast, dispatch, reply), and against one busy
//! server starving its clients across schedulers.

use std::time::Duration;

use beamlet::ExitReason;
use beamlet::otp::CallError;
use beamlet::otp::gen_server::{self, CallReply, Caller, GenServer, Init, ServerRef};
use beamlet_benches::{calls, fail};

/// The counter: every call adds `n` and returns the total.
struct Counter(u64);

impl GenServer for Counter {
    type Args = ();
    type Call = u64;
    type Reply = u64;
    type Cast = ();
    type Continue = ();

    fn init(_: ()) -> Init<Self, ()> {
        Init::Ok(Counter(0))
    }

    fn handle_call(&mut self, n: u64, _: Caller<u64>) -> CallReply<u64, ()> {
        self.0 += n;
        CallReply::Reply(self.0)
    }
}

fn main() {
    calls::main::<Handle>(
        "genserver_call",
        "genserver_call: C clients making M synchronous calls in total to one counter GenServer.",
    );
}

/// The benchmark's handle on the counter.
#[derive(Clone, Copy)]
struct Handle(ServerRef<Counter>);

impl calls::Counter for Handle {
    type Error = CallError;

    fn start() -> Self {
        gen_server::start_link::<Counter>(())
            .map(Handle)
            .unwrap_or_else(|e| fail(format_args!("starting the counter: {e}")))
    }

    fn call(self, n: u64) -> Result<u64, CallError> {
        gen_server::call(self.0, n)
    }

    fn stop(self) {
        if let Err(e) = gen_server::stop(self.0, ExitReason::Normal, Duration::MAX) {
            fail(format_args!("stopping the counter: {e}"));
        }
    }
}
