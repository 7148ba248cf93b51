//! What the distribution tests share besides the erl node (`super::erl`).

use beamlet::otp::gen_server::{CallReply, Caller, GenServer, Init};

/// A counter server other nodes call: a call adds its number and answers the total.
pub(crate) struct Counter(i64);

impl GenServer for Counter {
    type Args = i64;
    type Call = i64;
    type Reply = i64;
    type Cast = i64;
    type Continue = ();
    fn init(start: i64) -> Init<Self, ()> {
        Init::Ok(Counter(start))
    }
    fn handle_call(&mut self, add: i64, _: Caller<i64>) -> CallReply<i64, ()> {
        self.0 += add;
        CallReply::Reply(self.0)
    }
}
